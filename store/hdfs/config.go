package hdfs

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultPort is the namenode RPC port Hadoop assumes for an hdfs://
// authority without one.
const DefaultPort = "8020"

// Defaults of the Hadoop properties that set the timeouts.
const (
	DefaultConnectTimeout = 20 * time.Second // ipc.client.connect.timeout
	DefaultIOTimeout      = 60 * time.Second // dfs.client.socket-timeout
)

// Config is how to reach HDFS, found the way Hadoop's own clients find it.
type Config struct {
	// Props are the Hadoop properties (core-site.xml, then hdfs-site.xml;
	// ${name} references expanded).
	Props map[string]string
	// ConfDir is the directory they were read from ("" if none was found).
	ConfDir string
	// User is the user HDFS sees with SIMPLE authentication:
	// HADOOP_USER_NAME, else the operating-system user. With Kerberos the
	// ticket's principal is used instead.
	User string
	// Krb5Conf is the krb5.conf path: KRB5_CONFIG, else /etc/krb5.conf.
	Krb5Conf string
	// CCache is the Kerberos ticket cache: KRB5CCNAME (FILE: caches
	// only), else /tmp/krb5cc_<uid>.
	CCache string
	// ConnectTimeout bounds reaching each namenode: the TCP connection,
	// the handshake and the first call. From ipc.client.connect.timeout
	// (milliseconds), else DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// IOTimeout bounds each later wait for a namenode answer and each
	// datanode read or write. From dfs.client.socket-timeout
	// (milliseconds), else DefaultIOTimeout.
	IOTimeout time.Duration
	// Dial opens TCP connections to namenodes and datanodes; nil means a
	// net.Dialer. Tests use it to keep every connection on loopback.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Connections is the number of namenode connections per-file calls
	// (create, open, stat) are spread over: the client waits for each
	// answer before sending the next call on a connection, so parallel
	// copies need several. Extra connections are opened on first use.
	// DefaultConnections if zero.
	Connections int
}

// DefaultConnections is the default of Config.Connections.
const DefaultConnections = 4

// LoadConfig finds and reads the Hadoop configuration as Hadoop's
// scripts do: $HADOOP_CONF_DIR, else $HADOOP_HOME/etc/hadoop, else
// $HADOOP_HOME/conf, else none (then only full hdfs://host:port URIs
// work). getenv is os.Getenv in the command; it is a parameter so that
// nothing here reads the environment behind the caller's back.
func LoadConfig(getenv func(string) string) (*Config, error) {
	c := &Config{Props: map[string]string{}}
	var dirs []string
	if d := getenv("HADOOP_CONF_DIR"); d != "" {
		dirs = append(dirs, d)
	} else if h := getenv("HADOOP_HOME"); h != "" {
		dirs = append(dirs, filepath.Join(h, "etc", "hadoop"), filepath.Join(h, "conf"))
	}
	for _, d := range dirs {
		props, found, err := ReadConfDir(d)
		if err != nil {
			return nil, err
		}
		if found {
			c.Props, c.ConfDir = props, d
			break
		}
	}
	if getenv("HADOOP_CONF_DIR") != "" && c.ConfDir == "" {
		return nil, fmt.Errorf("HADOOP_CONF_DIR=%s: no core-site.xml or hdfs-site.xml there", getenv("HADOOP_CONF_DIR"))
	}
	c.User = getenv("HADOOP_USER_NAME")
	uid := ""
	if u, err := user.Current(); err == nil {
		if c.User == "" {
			c.User = u.Username
		}
		uid = u.Uid
	}
	if c.User == "" {
		c.User = getenv("USER")
	}
	c.Krb5Conf = getenv("KRB5_CONFIG")
	if c.Krb5Conf == "" {
		c.Krb5Conf = "/etc/krb5.conf"
	}
	c.CCache = getenv("KRB5CCNAME")
	if c.CCache == "" && uid != "" {
		c.CCache = "/tmp/krb5cc_" + uid
	}
	var err error
	if c.ConnectTimeout, err = c.millis("ipc.client.connect.timeout", DefaultConnectTimeout); err != nil {
		return nil, err
	}
	if c.IOTimeout, err = c.millis("dfs.client.socket-timeout", DefaultIOTimeout); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) millis(key string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(c.Props[key])
	if v == "" {
		return def, nil
	}
	// Hadoop accepts a time unit suffix (getTimeDuration); bare numbers are ms.
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms < 0 {
		return 0, fmt.Errorf("%s=%q in %s: expected milliseconds", key, v, c.ConfDir)
	}
	if ms == 0 {
		return def, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

type xmlProperty struct {
	Name  string `xml:"name"`
	Value string `xml:"value"`
}

type xmlConfiguration struct {
	Properties []xmlProperty `xml:"property"`
}

// confFiles are read in this order; later files win, as in Hadoop's
// HdfsConfiguration (core-default, core-site, hdfs-default, hdfs-site).
var confFiles = []string{"core-site.xml", "hdfs-site.xml"}

// ReadConfDir reads core-site.xml and hdfs-site.xml from dir. found is
// false when neither exists.
func ReadConfDir(dir string) (props map[string]string, found bool, err error) {
	props = map[string]string{}
	for _, name := range confFiles {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		found = true
		var x xmlConfiguration
		if err := xml.Unmarshal(b, &x); err != nil {
			return nil, false, fmt.Errorf("%s: %w", p, err)
		}
		for _, pr := range x.Properties {
			props[strings.TrimSpace(pr.Name)] = strings.TrimSpace(pr.Value)
		}
	}
	expand(props)
	return props, found, nil
}

var varRef = regexp.MustCompile(`\$\{([^}$]+)\}`)

// expand replaces ${name} by the value of another property, as Hadoop's
// Configuration does (up to 20 rounds; unknown names are left as they are).
func expand(props map[string]string) {
	for k, v := range props {
		for range 20 {
			nv := varRef.ReplaceAllStringFunc(v, func(m string) string {
				if r, ok := props[m[2:len(m)-1]]; ok {
					return r
				}
				return m
			})
			if nv == v {
				break
			}
			v = nv
		}
		props[k] = v
	}
}

// IsURI reports whether s is an hdfs:// URI.
func IsURI(s string) bool {
	return len(s) >= 7 && strings.EqualFold(s[:7], "hdfs://")
}

// SplitURI splits an hdfs:// URI into its authority and absolute, cleaned
// path: "hdfs://nn:8020/a/b/" gives "nn:8020" and "/a/b"; "hdfs:///a"
// gives "" (fs.defaultFS) and "/a".
func SplitURI(uri string) (authority, p string, err error) {
	if !IsURI(uri) {
		return "", "", fmt.Errorf("%s: not an hdfs:// URI", uri)
	}
	u, err := url.Parse("hdfs://" + uri[7:])
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", uri, err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("%s: an hdfs:// URI has no user, query or fragment", uri)
	}
	p = u.Path
	if p == "" {
		p = "/"
	}
	return u.Host, path.Clean(p), nil
}

// Namenode is one namenode RPC address of a file system.
type Namenode struct {
	ID   string // the HA namenode id (dfs.ha.namenodes.<ns>), "" without HA
	Addr string // host:port
}

func (n Namenode) String() string {
	if n.ID == "" {
		return n.Addr
	}
	return n.ID + " (" + n.Addr + ")"
}

// Resolve returns the authority an hdfs:// URI's authority stands for
// (fs.defaultFS's for an empty one) and its namenodes: every
// dfs.namenode.rpc-address.<ns>.<nn> of an HA nameservice (listed in
// dfs.ha.namenodes.<ns>), the dfs.namenode.rpc-address.<ns> of a
// nameservice without HA, or host:port itself (port 8020 if absent).
func (c *Config) Resolve(authority string) (string, []Namenode, error) {
	if authority == "" {
		def := c.Props["fs.defaultFS"]
		if def == "" {
			def = c.Props["fs.default.name"]
		}
		if !IsURI(def) {
			where := "no Hadoop configuration was found (set HADOOP_CONF_DIR)"
			if c.ConfDir != "" {
				where = fmt.Sprintf("fs.defaultFS in %s is %q", c.ConfDir, def)
			}
			return "", nil, fmt.Errorf("hdfs:/// names the default file system, but %s: give hdfs://NAMENODE:PORT/...", where)
		}
		a, _, err := SplitURI(def)
		if err != nil {
			return "", nil, fmt.Errorf("fs.defaultFS: %w", err)
		}
		if a == "" {
			return "", nil, fmt.Errorf("fs.defaultFS %q has no authority", def)
		}
		authority = a
	}
	if ids := c.Props["dfs.ha.namenodes."+authority]; ids != "" {
		var nns []Namenode
		for _, id := range strings.Split(ids, ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			key := "dfs.namenode.rpc-address." + authority + "." + id
			addr := c.Props[key]
			if addr == "" {
				return "", nil, fmt.Errorf("nameservice %s: namenode %s has no %s in %s", authority, id, key, c.ConfDir)
			}
			nns = append(nns, Namenode{ID: id, Addr: withPort(addr)})
		}
		if len(nns) == 0 {
			return "", nil, fmt.Errorf("nameservice %s: dfs.ha.namenodes.%s lists no namenode", authority, authority)
		}
		return authority, nns, nil
	}
	if addr := c.Props["dfs.namenode.rpc-address."+authority]; addr != "" {
		return authority, []Namenode{{Addr: withPort(addr)}}, nil
	}
	if c.isNameservice(authority) {
		return "", nil, fmt.Errorf("nameservice %s (dfs.nameservices) has neither dfs.ha.namenodes.%s nor dfs.namenode.rpc-address.%s", authority, authority, authority)
	}
	return authority, []Namenode{{Addr: withPort(authority)}}, nil
}

func (c *Config) isNameservice(name string) bool {
	for _, ns := range strings.Split(c.Props["dfs.nameservices"], ",") {
		if strings.TrimSpace(ns) == name {
			return true
		}
	}
	return false
}

// withPort adds Hadoop's default namenode port to a host without one.
func withPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), DefaultPort)
}
