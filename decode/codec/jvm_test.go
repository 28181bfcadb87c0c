package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The JVM cross-check runs the real Java codec libraries Spark uses. Set
// SPARKCKPT_REQUIRE_JVM=1 to make a missing JDK or jar a failure instead of a
// skip; SPARKCKPT_JAVA_JARS and SPARKCKPT_JAVA_LIBRARY_PATH override where
// the jars and their native libraries are.
var (
	jvmJars        = []string{"lz4-java.jar", "snappy-java.jar", "zstd-jni.jar", "compress-lzf.jar"}
	jvmJarDir      = envOr("SPARKCKPT_JAVA_JARS", "/usr/share/java")
	jvmLibraryPath = envOr("SPARKCKPT_JAVA_LIBRARY_PATH", "/usr/lib/x86_64-linux-gnu/jni:/usr/lib/x86_64-linux-gnu")
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// codecToolJava runs a batch of commands, one per line, tab-separated:
//
//	compress   KIND IN OUT BLOCKSIZE LEVEL IMPL   as Spark writes: 1024-byte writes, one flush, close
//	decompress KIND IN OUT                        as Spark reads
//	lz4blocks  IMPL IN OUT                        IN and OUT are (BE int32 length, bytes)*
//	snappyblocks IN OUT                           Snappy.compress of each block, same framing
//	lzfstreams IN OUT fresh|reuse                 each block through its own LZFOutputStream, each
//	                                              in a new thread (fresh) or all in this one (reuse)
const codecToolJava = `
import java.io.*;
import java.nio.file.*;
import net.jpountz.lz4.*;

public class CodecTool {
  static LZ4Compressor lz4(String impl) {
    return impl.equals("pure-java") ? LZ4Factory.safeInstance().fastCompressor() : LZ4Factory.nativeInstance().fastCompressor();
  }
  static OutputStream compressor(String kind, OutputStream out, int blockSize, int level, String impl) throws IOException {
    switch (kind) {
      case "lz4": return new LZ4BlockOutputStream(out, blockSize, lz4(impl));
      case "snappy": return new org.xerial.snappy.SnappyOutputStream(out, blockSize);
      case "zstd": return new BufferedOutputStream(new com.github.luben.zstd.ZstdOutputStream(out, level), blockSize);
      case "lzf": return new com.ning.compress.lzf.LZFOutputStream(out).setFinishBlockOnFlush(true);
    }
    throw new IllegalArgumentException(kind);
  }
  static InputStream decompressor(String kind, InputStream in) throws IOException {
    switch (kind) {
      case "lz4": return new LZ4BlockInputStream(in, false);
      case "snappy": return new org.xerial.snappy.SnappyInputStream(in);
      case "zstd": return new BufferedInputStream(new com.github.luben.zstd.ZstdInputStream(in));
      case "lzf": return new com.ning.compress.lzf.LZFInputStream(in);
    }
    throw new IllegalArgumentException(kind);
  }
  static void run(String[] a) throws Exception {
    switch (a[0]) {
      case "compress": {
        byte[] data = Files.readAllBytes(Paths.get(a[2]));
        try (OutputStream os = compressor(a[1], new FileOutputStream(a[3]), Integer.parseInt(a[4]), Integer.parseInt(a[5]), a[6])) {
          for (int off = 0; off < data.length; off += 1024) os.write(data, off, Math.min(1024, data.length - off));
          os.flush();
        }
        break;
      }
      case "decompress": {
        try (InputStream is = decompressor(a[1], new FileInputStream(a[2])); OutputStream os = new FileOutputStream(a[3])) {
          byte[] buf = new byte[8192];
          for (int n; (n = is.read(buf)) > 0; ) os.write(buf, 0, n);
        }
        break;
      }
      case "lz4blocks": {
        LZ4Compressor c = lz4(a[1]);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(a[2])));
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(a[3])))) {
          while (in.available() > 0) {
            byte[] src = new byte[in.readInt()];
            in.readFully(src);
            byte[] dst = new byte[c.maxCompressedLength(src.length)];
            int n = c.compress(src, 0, src.length, dst, 0, dst.length);
            out.writeInt(n);
            out.write(dst, 0, n);
          }
        }
        break;
      }
      case "snappyblocks": {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(a[1])));
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(a[2])))) {
          while (in.available() > 0) {
            byte[] src = new byte[in.readInt()];
            in.readFully(src);
            byte[] dst = org.xerial.snappy.Snappy.compress(src);
            out.writeInt(dst.length);
            out.write(dst);
          }
        }
        break;
      }
      case "lzfstreams": {
        final boolean fresh = a[3].equals("fresh");
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(a[1])));
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(a[2])))) {
          while (in.available() > 0) {
            final byte[] src = new byte[in.readInt()];
            in.readFully(src);
            final ByteArrayOutputStream bos = new ByteArrayOutputStream();
            Runnable r = () -> {
              try (OutputStream os = new com.ning.compress.lzf.LZFOutputStream(bos).setFinishBlockOnFlush(true)) {
                os.write(src);
                os.flush();
              } catch (IOException e) { throw new UncheckedIOException(e); }
            };
            if (fresh) { Thread t = new Thread(r); t.start(); t.join(); } else { r.run(); }
            out.writeInt(bos.size());
            bos.writeTo(out);
          }
        }
        break;
      }
      default: throw new IllegalArgumentException(a[0]);
    }
  }
  public static void main(String[] args) throws Exception {
    for (String line : Files.readAllLines(Paths.get(args[0]))) {
      if (line.isEmpty()) continue;
      try {
        run(line.split("\t"));
      } catch (Exception e) {
        System.err.println("FAILED: " + line);
        e.printStackTrace();
        System.exit(1);
      }
    }
  }
}
`

// jvmTool is CodecTool compiled into a temporary directory.
type jvmTool struct {
	dir, classpath string
}

func newJVMTool(t *testing.T) *jvmTool {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("SPARKCKPT_REQUIRE_JVM") == "1" {
			t.Fatalf("JVM cross-check required (SPARKCKPT_REQUIRE_JVM=1) but unavailable: %s", msg)
		}
		t.Skipf("*** JVM CROSS-CHECK SKIPPED: %s (set SPARKCKPT_REQUIRE_JVM=1 to make this a failure) ***", msg)
	}
	if testing.Short() && os.Getenv("SPARKCKPT_REQUIRE_JVM") != "1" {
		unavailable("-short")
	}
	for _, tool := range []string{"javac", "java"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable("%s not found: %v", tool, err)
		}
	}
	cp := make([]string, 0, len(jvmJars)+1)
	for _, jar := range jvmJars {
		p := filepath.Join(jvmJarDir, jar)
		if _, err := os.Stat(p); err != nil {
			unavailable("jar missing: %v", err)
		}
		cp = append(cp, p)
	}
	dir := t.TempDir()
	cp = append(cp, dir)
	classpath := strings.Join(cp, string(os.PathListSeparator))
	src := filepath.Join(dir, "CodecTool.java")
	require.NoError(t, os.WriteFile(src, []byte(codecToolJava), 0o644))
	out, err := exec.Command("javac", "-cp", classpath, "-d", dir, src).CombinedOutput()
	require.NoError(t, err, "javac: %s", out)
	return &jvmTool{dir: dir, classpath: classpath}
}

// run executes a batch of tab-separated commands in one JVM.
func (j *jvmTool) run(t *testing.T, commands [][]string) {
	t.Helper()
	var script strings.Builder
	for _, c := range commands {
		script.WriteString(strings.Join(c, "\t"))
		script.WriteByte('\n')
	}
	f := filepath.Join(t.TempDir(), "batch.txt")
	require.NoError(t, os.WriteFile(f, []byte(script.String()), 0o644))
	cmd := exec.Command("java", "-Djava.library.path="+jvmLibraryPath, "-cp", j.classpath, "CodecTool", f)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "java: %s", out)
}

// jvmPayload is one input of the cross-check.
type jvmPayload struct {
	name string
	data []byte
}

func jvmPayloads(t *testing.T) []jvmPayload {
	ps := []jvmPayload{{"realistic-1MiB", realisticPayload(t, 1<<20)}}
	for _, n := range []int{0, 1, 1023, 32767, 32768, 32769, 100000} {
		ps = append(ps,
			jvmPayload{fmt.Sprintf("text-%d", n), textData(n, uint64(n))},
			jvmPayload{fmt.Sprintf("random-%d", n), randomData(n, uint64(n))})
	}
	return ps
}

func TestJVM(t *testing.T) {
	jvm := newJVMTool(t)
	dir := t.TempDir()
	payloads := jvmPayloads(t)
	for _, p := range payloads {
		require.NoError(t, os.WriteFile(filepath.Join(dir, p.name), p.data, 0o644))
	}

	// Streams as Spark writes them, and which of ours must equal them.
	type config struct {
		kind  Kind
		p     Params
		exact bool
	}
	configs := []config{
		{LZ4, Params{BlockSize: 32768}, true},
		{LZ4, Params{BlockSize: 32768, LZ4: LZ4PureJava}, true},
		{LZ4, Params{BlockSize: 1 << 17}, true},
		{LZ4, Params{BlockSize: 1 << 17, LZ4: LZ4PureJava}, true},
		{LZ4, Params{BlockSize: 1000}, true},
		{Snappy, Params{BlockSize: 32768}, true},
		{Snappy, Params{BlockSize: 1 << 17}, true},
		{LZF, Params{BlockSize: LZFChunkSize}, true},
		{Zstd, Params{BlockSize: 32768, Level: 1}, false},
		{Zstd, Params{BlockSize: 32768, Level: 9}, false},
	}
	cfgName := func(c config) string {
		return fmt.Sprintf("%v-%d-%d-%v", c.kind, c.p.BlockSize, c.p.Level, c.p.LZ4)
	}

	t.Run("JavaWritesGoReads", func(t *testing.T) {
		var cmds [][]string
		for _, c := range configs {
			for _, p := range payloads {
				cmds = append(cmds, []string{"compress", c.kind.String(), filepath.Join(dir, p.name),
					filepath.Join(dir, p.name+"."+cfgName(c)), fmt.Sprint(c.p.BlockSize), fmt.Sprint(c.p.Level), c.p.LZ4.String()})
			}
		}
		jvm.run(t, cmds)
		for _, c := range configs {
			for _, p := range payloads {
				name := p.name + "." + cfgName(c)
				javaOut, err := os.ReadFile(filepath.Join(dir, name))
				require.NoError(t, err)
				got, r, err := decompressKind(javaOut, c.kind)
				require.NoError(t, err, name)
				require.True(t, bytes.Equal(p.data, got), "%s: decoded data differs", name)
				if c.kind != Zstd && len(p.data) > c.p.BlockSize {
					assert.Equal(t, c.p.BlockSize, r.Params().BlockSize, "%s: observed block size", name)
				}
				if c.exact {
					ours, err := Compress(c.kind, c.p, p.data)
					require.NoError(t, err)
					if !bytes.Equal(ours, javaOut) {
						t.Errorf("%s: our stream differs from Java's: %s", name, bytediff(ours, javaOut))
					}
				}
			}
		}
	})

	t.Run("GoWritesJavaReads", func(t *testing.T) {
		var cmds [][]string
		type job struct{ in, out string }
		var jobs []job
		for _, c := range configs {
			for _, p := range payloads {
				ours, err := Compress(c.kind, c.p, p.data)
				require.NoError(t, err)
				in := filepath.Join(dir, p.name+".go."+cfgName(c))
				require.NoError(t, os.WriteFile(in, ours, 0o644))
				jobs = append(jobs, job{in, in + ".out"})
				cmds = append(cmds, []string{"decompress", c.kind.String(), in, in + ".out"})
			}
		}
		jvm.run(t, cmds)
		i := 0
		for _, c := range configs {
			for _, p := range payloads {
				got, err := os.ReadFile(jobs[i].out)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(p.data, got), "%s: Java decoded our %v stream to different data", p.name, cfgName(c))
				i++
			}
		}
	})

	t.Run("LZ4Compressors", func(t *testing.T) {
		blocks := testBlocks(1000)
		inPath := writeBlocks(t, dir, "lz4blocks.in", blocks)
		impls := []LZ4Impl{LZ4Native, LZ4PureJava}
		var cmds [][]string
		for _, impl := range impls {
			cmds = append(cmds, []string{"lz4blocks", impl.String(), inPath, inPath + "." + impl.String()})
		}
		jvm.run(t, cmds)
		var c lz4Compressor
		for _, impl := range impls {
			want := readBlocks(t, inPath+"."+impl.String(), len(blocks))
			differ := 0
			for i, b := range blocks {
				got := make([]byte, lz4Bound(len(b)))
				got = got[:c.compress(impl, b, got)]
				if !bytes.Equal(got, want[i]) {
					differ++
					t.Errorf("%v block %d (%d bytes): %s", impl, i, len(b), bytediff(got, want[i]))
				}
			}
			t.Logf("lz4 %v: %d blocks compared with lz4-java 1.8.0, %d differ", impl, len(blocks), differ)
		}
	})

	t.Run("SnappyCompressor", func(t *testing.T) {
		blocks := testBlocks(600)
		inPath := writeBlocks(t, dir, "snappyblocks.in", blocks)
		jvm.run(t, [][]string{{"snappyblocks", inPath, inPath + ".out"}})
		want := readBlocks(t, inPath+".out", len(blocks))
		var c snappyCompressor
		differ := map[SnappyImpl]int{}
		for i, b := range blocks {
			for _, impl := range []SnappyImpl{SnappyCurrent, SnappyGo} {
				got := c.encode(impl, make([]byte, snappy.MaxEncodedLen(len(b))), b)
				if !bytes.Equal(got, want[i]) {
					differ[impl]++
					if impl == SnappyCurrent {
						t.Errorf("block %d (%d bytes): %s", i, len(b), bytediff(got, want[i]))
					}
				}
			}
		}
		t.Logf("snappy: %d blocks compared with snappy-java's Snappy.compress; differing: %v", len(blocks), differ)
	})

	t.Run("LZFStreams", func(t *testing.T) {
		blocks := testBlocks(400)
		inPath := writeBlocks(t, dir, "lzfstreams.in", blocks)
		jvm.run(t, [][]string{
			{"lzfstreams", inPath, inPath + ".fresh", "fresh"},
			{"lzfstreams", inPath, inPath + ".reuse", "reuse"},
		})
		fresh := readBlocks(t, inPath+".fresh", len(blocks))
		reuse := readBlocks(t, inPath+".reuse", len(blocks))
		reuseDiffer := 0
		for i, b := range blocks {
			ours, err := Compress(LZF, Params{}, b)
			require.NoError(t, err)
			if !bytes.Equal(ours, fresh[i]) {
				t.Errorf("block %d (%d bytes): %s", i, len(b), bytediff(ours, fresh[i]))
			}
			if !bytes.Equal(ours, reuse[i]) {
				reuseDiffer++
			}
		}
		t.Logf("lzf: %d streams equal compress-lzf 1.0.4 in fresh threads; %d differ from streams written one after another "+
			"in one thread (its recycled hash table)", len(blocks), reuseDiffer)
	})
}

// writeBlocks writes blocks as (BE int32 length, bytes)* and returns the path.
func writeBlocks(t *testing.T, dir, name string, blocks [][]byte) string {
	var in bytes.Buffer
	for _, b := range blocks {
		in.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		in.Write(b)
	}
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, in.Bytes(), 0o644))
	return path
}

// readBlocks reads n blocks written as (BE int32 length, bytes)*.
func readBlocks(t *testing.T, path string, n int) [][]byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	blocks := make([][]byte, n)
	for i := range blocks {
		require.GreaterOrEqual(t, len(b), 4)
		m := int(binary.BigEndian.Uint32(b))
		blocks[i], b = b[4:4+m], b[4+m:]
	}
	require.Empty(t, b)
	return blocks
}

// testBlocks are inputs of every size class for the compressor
// cross-checks, many with few distinct bytes, where the match finders' edge
// cases (such as lz4's search limit near the end) show up.
func testBlocks(count int) [][]byte {
	r := rand.New(rand.NewPCG(5, 5))
	var blocks [][]byte
	for i := range count {
		var n int
		switch i % 5 {
		case 0:
			n = r.IntN(64)
		case 1:
			n = r.IntN(4000)
		case 2:
			n = r.IntN(65547)
		case 3:
			n = 65540 + r.IntN(16)
		default:
			n = 65547 + r.IntN(250000)
		}
		b := make([]byte, n)
		alphabet := 2 + r.IntN(30)
		for j := range b {
			b[j] = byte('a' + r.IntN(alphabet))
		}
		if i%7 == 0 {
			b = textData(n, uint64(i))
		}
		blocks = append(blocks, b)
	}
	return blocks
}
