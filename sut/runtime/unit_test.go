package runtime

import (
	"archive/tar"
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sut/system"
)

func TestRaftdArgs(t *testing.T) {
	sys := system.Raftd(system.RaftdOptions{
		ReadMode: "lease", Bugs: []string{"stale-local-read", "no-dedup"},
		MaxClockDrift: 0.15, SnapshotEvery: 500, Extra: []string{"--log-level", "debug"},
	})
	got := sys.Args(system.NodeArgs{
		ID: "n2", Listen: "127.0.0.12:7000", Data: "/d/n2", Join: true, Cluster: "c1",
		Peers: map[string]string{"n2": "127.0.0.1:9002", "n1": "127.0.0.1:9001"},
	})
	want := []string{
		"--id", "n2", "--listen", "127.0.0.12:7000", "--peers", "n1=127.0.0.1:9001,n2=127.0.0.1:9002",
		"--data", "/d/n2", "--read-mode", "lease", "--bug", "stale-local-read", "--bug", "no-dedup",
		"--fault-injection", "--join", "--max-clock-drift", "0.15", "--snapshot-every", "500",
		"--cluster", "c1", "--log-level", "debug",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("args\n got %q\nwant %q", got, want)
	}
	minimal := system.Raftd(system.RaftdOptions{}).Args(system.NodeArgs{ID: "n1", Listen: "0.0.0.0:8080", Data: "/data", Peers: map[string]string{"n1": "n1:8080"}})
	wantMin := []string{"--id", "n1", "--listen", "0.0.0.0:8080", "--peers", "n1=n1:8080", "--data", "/data", "--fault-injection"}
	if !reflect.DeepEqual(minimal, wantMin) {
		t.Fatalf("minimal args\n got %q\nwant %q", minimal, wantMin)
	}
	if sys.Name() != "raftd" || sys.HealthPath() != "/admin/status" {
		t.Fatalf("name %q health %q", sys.Name(), sys.HealthPath())
	}
	if p := programOf(sys); p.Package != "./cmd/raftd" {
		t.Fatalf("raftd program %+v", p)
	}
}

func TestPeersRoundTrip(t *testing.T) {
	in := map[string]string{"n3": "n3:8080", "n1": "n1:8080", "n2": "n2:8080"}
	s := system.FormatPeers(in)
	if s != "n1=n1:8080,n2=n2:8080,n3=n3:8080" {
		t.Fatalf("FormatPeers = %s", s)
	}
	out, err := system.ParsePeers(s)
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("system.ParsePeers(%s) = %v, %v", s, out, err)
	}
	for _, bad := range []string{"n1", "n1=a:1,=b:2", "n1=a:1,n1=b:2"} {
		if _, err := system.ParsePeers(bad); err == nil || !strings.Contains(err.Error(), "peers entry") {
			t.Errorf("system.ParsePeers(%q) = %v, want an error naming the entry", bad, err)
		}
	}
}

func TestValidateSpecNamesTheField(t *testing.T) {
	ok := Spec{Campaign: "c", Nodes: []string{"n1"}, System: system.Raftd(system.RaftdOptions{})}
	if err := validateSpec(ok); err != nil {
		t.Fatal(err)
	}
	cases := map[string]Spec{
		"spec.Campaign": {Campaign: "bad name", Nodes: []string{"n1"}, System: ok.System},
		"spec.System":   {Campaign: "c", Nodes: []string{"n1"}},
		"spec.Nodes":    {Campaign: "c", System: ok.System},
		"spec.Nodes[1]": {Campaign: "c", Nodes: []string{"n1", "n1"}, System: ok.System},
		"spec.Nodes[0]": {Campaign: "c", Nodes: []string{"n=1"}, System: ok.System},
	}
	for field, spec := range cases {
		if err := validateSpec(spec); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: got %v", field, err)
		}
	}
}

func TestNewByName(t *testing.T) {
	rt, err := New("process", nil)
	if err != nil || rt.Name() != "process" {
		t.Fatalf("New(process) = %v, %v", rt, err)
	}
	if _, err := New("kubernetes", nil); err == nil || !strings.Contains(err.Error(), "kubernetes") {
		t.Fatalf("New(kubernetes) = %v", err)
	}
	rt, err = New("auto", slog.New(slog.DiscardHandler))
	if err != nil || (rt.Name() != "docker" && rt.Name() != "process") {
		t.Fatalf("New(auto) = %v, %v", rt, err)
	}
}

func TestDockerIsLocal(t *testing.T) {
	for host, want := range map[string]bool{
		"": true, "unix:///var/run/docker.sock": true, "tcp://127.0.0.1:2375": true,
		"tcp://localhost:2375": true, "tcp://10.0.0.5:2375": false, "ssh://me@host": false,
	} {
		if got := dockerIsLocal(host); got != want {
			t.Errorf("dockerIsLocal(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestImageTagAndContext(t *testing.T) {
	a := builtBinary{Hash: strings.Repeat("a", 64)}
	b := builtBinary{Hash: strings.Repeat("b", 64)}
	recipe := func(sys string, node, nf builtBinary) imageRecipe {
		return imageRecipe{system: sys, node: node, netfault: nf}
	}
	tag := recipe("raftd", a, b).tag()
	if !strings.HasPrefix(tag, "faultline/raftd:") || tag != recipe("raftd", a, b).tag() {
		t.Fatalf("tag %q is not stable", tag)
	}
	if recipe("raftd", b, a).tag() == tag || recipe("other", a, b).tag() == tag {
		t.Fatal("tag ignores the content")
	}
	withInit := recipe("raftd", a, b)
	withInit.init = a
	if withInit.tag() == tag {
		t.Fatal("tag ignores faultinit")
	}
	user := imageRecipe{system: "etcd", base: "example/etcd:v3", netfault: b}
	if user.tag() == (imageRecipe{system: "etcd", base: "example/etcd:v4", netfault: b}).tag() {
		t.Fatal("tag ignores the user's base image")
	}
	if df := user.dockerfile(); !strings.HasPrefix(df, "FROM example/etcd:v3\n") || strings.Contains(df, "ENTRYPOINT") {
		t.Fatalf("Dockerfile on a user image keeps its entrypoint:\n%s", df)
	}

	dir := t.TempDir()
	node, nf, fi := filepath.Join(dir, "node"), filepath.Join(dir, "nf"), filepath.Join(dir, "fi")
	os.WriteFile(node, []byte("NODE"), 0o755)
	os.WriteFile(nf, []byte("NF"), 0o755)
	os.WriteFile(fi, []byte("FI"), 0o755)
	r, err := imageContext(imageRecipe{system: "raftd", node: builtBinary{Path: node}, netfault: builtBinary{Path: nf}, init: builtBinary{Path: fi}})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		files[h.Name] = string(data)
	}
	if files["raftd"] != "NODE" || files["netfault"] != "NF" || files["faultinit"] != "FI" || !strings.HasPrefix(files["Dockerfile"], "FROM scratch\n") {
		t.Fatalf("build context: %v", files)
	}
	if !strings.Contains(files["Dockerfile"], `ENTRYPOINT ["/raftd"]`) {
		t.Fatalf("Dockerfile:\n%s", files["Dockerfile"])
	}
}

func TestFindModuleRoot(t *testing.T) {
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "sut", "runtime", "runtime.go")); err != nil {
		t.Fatalf("root %s: %v", root, err)
	}
	if _, err := FindModuleRoot(t.TempDir()); err == nil {
		t.Fatal("found a module root in an empty temp dir")
	}
}

// echoServer echoes every line back; it stands for the node behind a proxy.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

// dialFrom dials addr from a given loopback source IP.
func dialFrom(t *testing.T, srcIP, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(srcIP)}, Timeout: time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echoes reports whether a line sent on c comes back.
func echoes(c net.Conn) bool {
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "ping\n"
}

func TestLinkProxyCutsOnlyGrudgedSources(t *testing.T) {
	ids := map[string]string{"127.0.0.21": "a", "127.0.0.22": "b"}
	p, err := newLinkProxy("dst", echoServer(t), func(ip string) string { return ids[ip] }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()

	fromA, fromB := dialFrom(t, "127.0.0.21", p.Addr()), dialFrom(t, "127.0.0.22", p.Addr())
	if !echoes(fromA) || !echoes(fromB) {
		t.Fatal("streams not forwarded before any grudge")
	}
	p.setBlocked([]string{"a"})
	if echoes(fromA) {
		t.Fatal("a's existing stream survived the grudge")
	}
	if !echoes(fromB) {
		t.Fatal("b's stream was cut by a grudge against a")
	}
	againA := dialFrom(t, "127.0.0.21", p.Addr())
	if echoes(againA) {
		t.Fatal("a's new stream is forwarded despite the grudge")
	}
	p.setBlocked(nil)
	healedA := dialFrom(t, "127.0.0.21", p.Addr())
	if !echoes(healedA) {
		t.Fatal("a's stream not forwarded after healing")
	}
	if echoes(againA) {
		t.Fatal("a black-holed stream came back to life after healing (it must be closed so a redials)")
	}
}
