package vpc

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"overcast/internal/docker"
)

// DefaultInterval is how often a Link looks for listeners that appeared or
// went away in its VPC: a task started during the build becomes reachable
// within it.
const DefaultInterval = time.Second

// LinkOptions tune Attach.
type LinkOptions struct {
	// Interval between looks at the host's listeners (DefaultInterval
	// when zero).
	Interval time.Duration
	Logger   *slog.Logger
	// ListenersFile is the host's table of TCP sockets
	// (/proc/self/net/tcp, overcast's own network namespace, when empty).
	ListenersFile string
}

// Link mirrors the host's listeners in a VPC's range into one container's
// network namespace. Close ends it.
type Link struct {
	nsPath string
	cidr   netip.Prefix
	opts   LinkOptions

	mu        sync.Mutex
	listeners map[netip.AddrPort]net.Listener
	closed    bool

	stop chan struct{}
	done chan struct{}
}

// Attach links the network namespace of the process pid (a running build
// container's) to the VPC whose range is cidr: every address and port
// listening in cidr on the host is listened on at the same address in the
// namespace and forwarded to the host's. The listeners present now are
// linked before Attach returns; later ones within an interval.
//
// Entering another network namespace needs overcast to run as root on the
// engine's host; without that Attach fails and says so.
func Attach(pid int, cidr netip.Prefix, opts LinkOptions) (*Link, error) {
	if !cidr.IsValid() || pid <= 0 {
		return nil, fmt.Errorf("vpc: attach needs a range and a process (got %v, pid %d)", cidr, pid)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ListenersFile == "" {
		opts.ListenersFile = "/proc/self/net/tcp"
	}
	l := &Link{nsPath: fmt.Sprintf("/proc/%d/ns/net", pid), cidr: cidr.Masked(), opts: opts,
		listeners: map[netip.AddrPort]net.Listener{}, stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.sync(); err != nil {
		l.closeListeners()
		return nil, err
	}
	go l.run()
	return l, nil
}

// Close stops linking and closes the namespace's listeners; connections
// already forwarded end with the container.
func (l *Link) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	l.closeListeners()
	return nil
}

// run looks at the host's listeners every interval. It polls the kernel's
// table, which tells no one of changes, so it ticks in real time.
func (l *Link) run() {
	defer close(l.done)
	t := time.NewTicker(l.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if err := l.sync(); err != nil {
				// The container is gone (its namespace with it): nothing
				// more to link.
				l.opts.Logger.Debug("codebuild: vpc link ends", "ns", l.nsPath, "err", err)
				return
			}
		}
	}
}

// sync makes the namespace's listeners match the host's in the range.
func (l *Link) sync() error {
	want, err := hostListeners(l.opts.ListenersFile, l.cidr)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	for ap, ln := range l.listeners {
		if !want[ap] {
			ln.Close()
			delete(l.listeners, ap)
		}
	}
	var missing []netip.AddrPort
	for ap := range want {
		if l.listeners[ap] == nil {
			missing = append(missing, ap)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	made, failed, err := listenInNamespace(l.nsPath, missing)
	for ap, ln := range made {
		l.listeners[ap] = ln
		go l.serve(ln, ap)
	}
	for ap, bindErr := range failed {
		// The build holds that address itself: the VPC's is shadowed
		// there, as a local listener would shadow it on a VPC host.
		l.opts.Logger.Debug("codebuild: vpc address not linked", "ns", l.nsPath, "addr", ap, "err", bindErr)
	}
	return err
}

func (l *Link) closeListeners() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ap, ln := range l.listeners {
		ln.Close()
		delete(l.listeners, ap)
	}
}

// serve forwards each connection the namespace's listener accepts to the
// same address on the host.
func (l *Link) serve(ln net.Listener, target netip.AddrPort) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go forward(c, target)
	}
}

func forward(c net.Conn, target netip.AddrPort) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", target.String(), 10*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(up, c)
		closeWrite(up)
		close(done)
	}()
	io.Copy(c, up)
	closeWrite(c)
	<-done
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// listenInNamespace opens listeners for addrs inside the network namespace
// at nsPath, and says which addresses could not be bound. A socket belongs
// to the namespace it was made in for its whole life, so the thread enters
// the namespace only to make them. The error is about the namespace
// itself: it cannot be entered (gone, or no privilege).
func listenInNamespace(nsPath string, addrs []netip.AddrPort) (made map[netip.AddrPort]net.Listener, failed map[netip.AddrPort]error, err error) {
	made, failed = map[netip.AddrPort]net.Listener{}, map[netip.AddrPort]error{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The thread is never unlocked if it cannot get back to the host's
		// namespace: the runtime then ends it with the goroutine, rather
		// than run other goroutines in the container's network.
		runtime.LockOSThread()
		var restored bool
		restored, err = inNamespace(nsPath, func() {
			for _, ap := range addrs {
				ln, err := net.Listen("tcp", ap.String())
				if err != nil {
					failed[ap] = err
					continue
				}
				made[ap] = ln
			}
		})
		if restored {
			runtime.UnlockOSThread()
		}
	}()
	<-done
	return made, failed, err
}

// inNamespace runs fn in the network namespace at nsPath on the calling
// (locked) thread, and reports whether the thread is back in its own.
func inNamespace(nsPath string, fn func()) (restored bool, err error) {
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return true, fmt.Errorf("vpc: %w", err)
	}
	defer self.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return true, fmt.Errorf("vpc: the build container's network namespace: %w", err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("vpc: entering the build container's network namespace needs overcast to run as root on the Docker engine's host: %w", err)
	}
	fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		return false, fmt.Errorf("vpc: returning to the host's network namespace: %w", err)
	}
	return true, nil
}

// listenState is TCP_LISTEN in /proc/net/tcp's st column.
const listenState = "0A"

// hostListeners reads the IPv4 sockets listening in cidr from a
// /proc/net/tcp table: "sl local_address rem_address st ...", addresses
// as hex (the address in host byte order) and a hex port.
func hostListeners(file string, cidr netip.Prefix) (map[netip.AddrPort]bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("vpc: the host's listeners: %w", err)
	}
	defer f.Close()
	return parseListeners(f, cidr)
}

func parseListeners(r io.Reader, cidr netip.Prefix) (map[netip.AddrPort]bool, error) {
	out := map[netip.AddrPort]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != listenState {
			continue
		}
		ap, ok := parseSocketAddr(fields[1])
		if ok && cidr.Contains(ap.Addr()) {
			out[ap] = true
		}
	}
	return out, sc.Err()
}

// parseSocketAddr reads "0100007F:1F90" (127.0.0.1:8080).
func parseSocketAddr(s string) (netip.AddrPort, bool) {
	addrHex, portHex, ok := strings.Cut(s, ":")
	if !ok || len(addrHex) != 8 {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(addrHex)
	if err != nil {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], binary.NativeEndian.Uint32(raw))
	return netip.AddrPortFrom(netip.AddrFrom4(b), uint16(port)), true
}

// Inspector finds a container's main process; *docker.Engine satisfies it.
type Inspector interface {
	InspectContainer(ctx context.Context, id string) (docker.Container, error)
}

// Attacher is runner.Build.AttachNetwork for a build in the VPC whose
// range is cidr (from Validate): it links the started container to the
// VPC until the build ends.
func Attacher(e Inspector, cidr netip.Prefix, opts LinkOptions) func(ctx context.Context, containerID string) (func(), error) {
	return func(ctx context.Context, containerID string) (func(), error) {
		c, err := e.InspectContainer(ctx, containerID)
		if err != nil {
			return nil, err
		}
		if !c.State.Running {
			return nil, fmt.Errorf("vpc: the build container %s is not running", containerID)
		}
		l, err := Attach(c.State.Pid, cidr, opts)
		if err != nil {
			return nil, err
		}
		return func() { l.Close() }, nil
	}
}
