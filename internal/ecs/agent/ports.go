package agent

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// ECS's dynamic port range when the kernel does not say
// (ip_local_port_range), and the ports it never hands out.
const (
	ephemeralLow  = 49153
	ephemeralHigh = 65535
)

var reservedPorts = map[uint16]bool{22: true, 2375: true, 2376: true, 51678: true, 51679: true, 51680: true}

// choosePorts gives every bridge-mode port mapping without a host port a
// free one in the ephemeral range, on hostIP.
func choosePorts(cs []*planned, hostIP string) error {
	low, high := portRange()
	taken := map[string]bool{}
	for _, c := range cs {
		for i := range c.spec.Ports {
			b := &c.spec.Ports[i]
			if b.HostPort != 0 {
				continue
			}
			port, err := freePort(hostIP, b.Protocol, low, high, taken)
			if err != nil {
				return err
			}
			b.HostPort = port
			c.meta.Ports[i].HostPort = port
		}
	}
	return nil
}

// portRange is the kernel's ephemeral port range, else ECS's.
func portRange() (int, int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return ephemeralLow, ephemeralHigh
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return ephemeralLow, ephemeralHigh
	}
	low, err1 := strconv.Atoi(f[0])
	high, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || low < 1 || high > 65535 || low > high {
		return ephemeralLow, ephemeralHigh
	}
	return low, high
}

// freePort finds a port in [low, high] that nothing listens on at hostIP,
// starting at random so that concurrent tasks rarely collide, and not
// already in taken.
func freePort(hostIP, proto string, low, high int, taken map[string]bool) (uint16, error) {
	ip := hostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return 0, fmt.Errorf("invalid host IP %q", hostIP)
	}
	n := high - low + 1
	start := rand.IntN(n)
	for i := range n {
		port := uint16(low + (start+i)%n)
		key := proto + "/" + strconv.Itoa(int(port))
		if reservedPorts[port] || taken[key] {
			continue
		}
		if listenable(ip, proto, port) {
			taken[key] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free %s port in %d-%d on %s", proto, low, high, ip)
}

func listenable(ip, proto string, port uint16) bool {
	addr := net.JoinHostPort(ip, strconv.Itoa(int(port)))
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}
