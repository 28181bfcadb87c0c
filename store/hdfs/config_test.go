package hdfs_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/store/hdfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeConf(t *testing.T, dir, name, props string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("<?xml version=\"1.0\"?>\n<configuration>\n"+props+"</configuration>\n"), 0o644))
}

func prop(name, value string) string {
	return "  <property><name>" + name + "</name><value>" + value + "</value></property>\n"
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	writeConf(t, dir, "core-site.xml", prop("fs.defaultFS", "hdfs://prod")+
		prop("ipc.client.connect.timeout", "5000")+
		prop("hadoop.tmp.dir", "/tmp/hadoop-${user.name}")+
		prop("my.nn", "nn1.example.com"))
	writeConf(t, dir, "hdfs-site.xml", prop("dfs.nameservices", "prod,backup")+
		prop("dfs.ha.namenodes.prod", "nn1, nn2")+
		prop("dfs.namenode.rpc-address.prod.nn1", "${my.nn}:8020")+
		prop("dfs.namenode.rpc-address.prod.nn2", "nn2.example.com")+
		prop("dfs.namenode.rpc-address.backup", "bk.example.com:9000")+
		prop("dfs.client.socket-timeout", "2m")+
		prop("ipc.client.connect.timeout", "7000")) // hdfs-site.xml wins
	cfg, err := hdfs.LoadConfig(env(map[string]string{"HADOOP_CONF_DIR": dir, "HADOOP_USER_NAME": "etl", "KRB5CCNAME": "FILE:/tmp/cc"}))
	require.NoError(t, err)
	assert.Equal(t, dir, cfg.ConfDir)
	assert.Equal(t, "etl", cfg.User)
	assert.Equal(t, "FILE:/tmp/cc", cfg.CCache)
	assert.Equal(t, "/etc/krb5.conf", cfg.Krb5Conf)
	assert.Equal(t, 7*time.Second, cfg.ConnectTimeout)
	assert.Equal(t, 2*time.Minute, cfg.IOTimeout)
	assert.Equal(t, "/tmp/hadoop-${user.name}", cfg.Props["hadoop.tmp.dir"], "unknown references stay")

	for _, c := range []struct {
		authority, resolved string
		nns                 []hdfs.Namenode
	}{
		{"", "prod", []hdfs.Namenode{{ID: "nn1", Addr: "nn1.example.com:8020"}, {ID: "nn2", Addr: "nn2.example.com:8020"}}},
		{"prod", "prod", []hdfs.Namenode{{ID: "nn1", Addr: "nn1.example.com:8020"}, {ID: "nn2", Addr: "nn2.example.com:8020"}}},
		{"backup", "backup", []hdfs.Namenode{{Addr: "bk.example.com:9000"}}},
		{"other:9000", "other:9000", []hdfs.Namenode{{Addr: "other:9000"}}},
		{"other", "other", []hdfs.Namenode{{Addr: "other:8020"}}},
	} {
		auth, nns, err := cfg.Resolve(c.authority)
		require.NoError(t, err, c.authority)
		assert.Equal(t, c.resolved, auth, c.authority)
		assert.Equal(t, c.nns, nns, c.authority)
	}
}

func TestLoadConfigHadoopHome(t *testing.T) {
	home := t.TempDir()
	writeConf(t, filepath.Join(home, "etc", "hadoop"), "core-site.xml", prop("fs.defaultFS", "hdfs://nn:9000"))
	cfg, err := hdfs.LoadConfig(env(map[string]string{"HADOOP_HOME": home}))
	require.NoError(t, err)
	auth, nns, err := cfg.Resolve("")
	require.NoError(t, err)
	assert.Equal(t, "nn:9000", auth)
	assert.Equal(t, []hdfs.Namenode{{Addr: "nn:9000"}}, nns)
	assert.Equal(t, hdfs.DefaultConnectTimeout, cfg.ConnectTimeout)
	assert.NotEmpty(t, cfg.User, "the OS user without HADOOP_USER_NAME")
}

func TestLoadConfigErrors(t *testing.T) {
	_, err := hdfs.LoadConfig(env(map[string]string{"HADOOP_CONF_DIR": t.TempDir()}))
	assert.ErrorContains(t, err, "no core-site.xml or hdfs-site.xml")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "core-site.xml"), []byte("<configuration><property>"), 0o644))
	_, err = hdfs.LoadConfig(env(map[string]string{"HADOOP_CONF_DIR": dir}))
	assert.ErrorContains(t, err, "core-site.xml")

	dir = t.TempDir()
	writeConf(t, dir, "core-site.xml", prop("ipc.client.connect.timeout", "soon"))
	_, err = hdfs.LoadConfig(env(map[string]string{"HADOOP_CONF_DIR": dir}))
	assert.ErrorContains(t, err, "ipc.client.connect.timeout")

	cfg, err := hdfs.LoadConfig(env(nil))
	require.NoError(t, err)
	_, _, err = cfg.Resolve("")
	assert.ErrorContains(t, err, "no Hadoop configuration was found (set HADOOP_CONF_DIR)")

	cfg.Props = map[string]string{"dfs.nameservices": "prod", "dfs.ha.namenodes.prod": "nn1"}
	_, _, err = cfg.Resolve("prod")
	assert.ErrorContains(t, err, "dfs.namenode.rpc-address.prod.nn1")
	cfg.Props = map[string]string{"dfs.nameservices": "prod"}
	_, _, err = cfg.Resolve("prod")
	assert.ErrorContains(t, err, "has neither")
}
