package dockertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"overcast/internal/docker"
)

// SecondEngine is a dockerd of the test's own beside the machine's: its
// own socket, data and exec roots, and bridge (on a subnet of its own,
// without iptables rules, which belong to the first engine), so that it
// stands for a second host.
type SecondEngine struct {
	// Options reach it as overcast's --docker-host does.
	Options docker.Options
	Engine  *docker.Engine
	// Freeze stops the daemon's processes (SIGSTOP), as a host that stops
	// answering; Thaw lets them go on.
	Freeze, Thaw func()
}

// StartSecondEngine starts a second engine for the test, stopped and
// removed when it ends. With tls, it listens on a loopback TCP port with
// --tlsverify (certificates of a CA made for the test), as a remote
// engine does; without, on a unix socket. It skips where the first
// engine does, and where no second can be started (not root, no dockerd).
func StartSecondEngine(t *testing.T, tls bool) SecondEngine {
	t.Helper()
	Engine(t) // the first engine, or skip (fail under OVERCAST_TEST_DOCKER=1)
	if os.Geteuid() != 0 {
		t.Skip("starting a second dockerd needs root")
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		t.Skip("no dockerd to start a second engine with")
	}
	id := RandomHex(4)
	dir := filepath.Join("/tmp", "ovc-dh-"+id) // short: a socket path has 108 bytes
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	bridge := "ovcdh" + id
	var subnet string
	for n := 200; n < 250 && subnet == ""; n++ {
		candidate := fmt.Sprintf("10.213.%d.", n)
		if out, _ := exec.Command("ip", "-4", "-o", "addr").Output(); !strings.Contains(string(out), candidate) {
			subnet = candidate
		}
	}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("link", "add", bridge, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", bridge).Run() })
	ip("addr", "add", subnet+"1/24", "dev", bridge)
	ip("link", "set", bridge, "up")

	opts := docker.Options{Host: "unix://" + filepath.Join(dir, "docker.sock")}
	var tlsArgs []string
	if tls {
		opts, tlsArgs = tlsEndpoint(t, dir)
	}
	logFile, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--host", opts.Host, "--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "--bridge", bridge, "--iptables=false", "--ip-masq=false"}, tlsArgs...)
	cmd := exec.Command(dockerd, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a second dockerd: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(func() {
		stop()
		logFile.Close()
		if t.Failed() {
			if log, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("second dockerd's log (tail):\n%s", log[max(len(log)-3000, 0):])
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("removing the second dockerd's directory: %v", err)
		}
	})
	e, err := docker.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for e.Ping(ctx) != nil {
		select {
		case <-ctx.Done():
			stop()
			t.Fatalf("the second dockerd does not answer at %s", opts.Host)
		case <-exited:
			t.Fatalf("the second dockerd exited: see %s", logFile.Name())
		case <-time.After(200 * time.Millisecond):
		}
	}
	signal := func(sig syscall.Signal) func() {
		return func() {
			if err := cmd.Process.Signal(sig); err != nil {
				t.Errorf("signalling the second dockerd: %v", err)
			}
		}
	}
	t.Cleanup(signal(syscall.SIGCONT)) // before stop, which runs first
	return SecondEngine{Options: opts, Engine: e, Freeze: signal(syscall.SIGSTOP), Thaw: signal(syscall.SIGCONT)}
}

// tlsEndpoint makes a CA, a server certificate for 127.0.0.1 and a client
// certificate in dir, and returns the options of an engine on a free
// loopback port that verifies its clients, and the dockerd flags that
// make it one.
func tlsEndpoint(t *testing.T, dir string) (docker.Options, []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ca, caKey := certificate(t, dir, "ca", nil, nil, func(c *x509.Certificate) {
		c.IsCA, c.BasicConstraintsValid, c.KeyUsage = true, true, x509.KeyUsageCertSign
	})
	certificate(t, dir, "server", ca, caKey, func(c *x509.Certificate) {
		c.IPAddresses, c.ExtKeyUsage = []net.IP{net.IPv4(127, 0, 0, 1)}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	certificate(t, dir, "client", ca, caKey, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	file := func(name string) string { return filepath.Join(dir, name) }
	return docker.Options{Host: "tcp://" + addr, TLSCA: file("ca.pem"), TLSCert: file("client.pem"), TLSKey: file("client-key.pem")},
		[]string{"--tlsverify", "--tlscacert", file("ca.pem"), "--tlscert", file("server.pem"), "--tlskey", file("server-key.pem")}
}

// certificate writes name.pem and name-key.pem in dir: a certificate that
// shape completes, signed by parent (self-signed when nil).
func certificate(t *testing.T, dir, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, shape func(*x509.Certificate)) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "overcast test " + name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	shape(tmpl)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(file, kind string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(name+".pem", "CERTIFICATE", der)
	write(name+"-key.pem", "EC PRIVATE KEY", keyDER)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}
