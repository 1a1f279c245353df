package elbv2

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"overcast/internal/http1"
)

// connPool keeps idle HTTP/1.1 connections to targets, per target
// address, and sends a request on one with no goroutine of its own: the
// handler's goroutine writes the request and reads the answer, which
// saves net/http.Transport's two hand-offs per request.
type connPool struct {
	// idle bounds both the wait for a target's answer and how long a
	// connection may sit unused (ALB's idle timeout).
	idle   time.Duration
	dialer net.Dialer

	mu     sync.Mutex
	conns  map[string][]*targetConn
	closed bool
}

type targetConn struct {
	net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time // when it last went idle
}

// maxIdlePerTarget caps the idle connections kept to one target.
const maxIdlePerTarget = 256

func newConnPool(idle time.Duration) *connPool {
	return &connPool{idle: idle, dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		conns: map[string][]*targetConn{}}
}

// roundTrip sends req to addr and reads the answer's head with readHead.
// The caller reads the body and then calls release with whether the
// connection may be used again. A connection from the pool that the
// target closed meanwhile is replaced once, for requests without a body.
func (p *connPool) roundTrip(ctx context.Context, addr string, https bool, req *outgoing, readHead func(*bufio.Reader) error) (*targetConn, error) {
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(ctx, addr, https)
		if err != nil {
			return nil, err
		}
		err = req.write(c.bw)
		if err == nil {
			err = readHead(c.br)
		}
		if err == nil {
			return c, nil
		}
		c.Close()
		if !reused || attempt > 0 || req.hasBody() || !staleConnection(err) {
			return nil, err
		}
	}
}

// staleConnection reports errors of a kept-alive connection the target
// had closed before the request went out.
func staleConnection(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (p *connPool) get(ctx context.Context, addr string, https bool) (*targetConn, bool, error) {
	p.mu.Lock()
	for list := p.conns[addr]; len(list) > 0; list = p.conns[addr] {
		c := list[len(list)-1]
		p.conns[addr] = list[:len(list)-1]
		if time.Since(c.used) < p.idle {
			p.mu.Unlock()
			return c, true, nil
		}
		c.Close()
	}
	p.mu.Unlock()
	conn, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	if https {
		conn = tls.Client(conn, &tls.Config{InsecureSkipVerify: true}) // ALB does not verify targets' certificates
	}
	ic := &http1.IdleConn{Conn: conn, Idle: p.idle}
	return &targetConn{Conn: ic, br: bufio.NewReaderSize(ic, 16<<10), bw: bufio.NewWriterSize(ic, 16<<10)}, false, nil
}

// release returns a connection to the pool when reusable, else closes it.
func (p *connPool) release(addr string, c *targetConn, reusable bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !reusable || p.closed || len(p.conns[addr]) >= maxIdlePerTarget {
		c.Close()
		return
	}
	c.used = time.Now()
	p.conns[addr] = append(p.conns[addr], c)
}

// close closes every idle connection; those in use close when released.
func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, list := range p.conns {
		for _, c := range list {
			c.Close()
		}
		delete(p.conns, addr)
	}
}
