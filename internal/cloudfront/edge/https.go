package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Certificates gives the viewer HTTPS listener a certificate for each
// host it is asked for (the SNI name). acmARN is the ACM certificate the
// distribution's ViewerCertificate names, for its aliases; "" for its
// own domain, which CloudFront's default certificate covers.
type Certificates interface {
	Certificate(host, acmARN string) (*tls.Certificate, error)
}

// httpsListener is the TLS side of the edge: viewers reach a
// distribution's domain or alias over HTTPS on it.
type httpsListener struct {
	ln  net.Listener
	srv *http.Server
}

// listenHTTPS opens the viewer HTTPS listener on addr.
func (e *Edge) listenHTTPS(addr string, certs Certificates) error {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			host := hello.ServerName
			dep := e.lookup(host)
			if host == "" || dep == nil {
				return nil, fmt.Errorf("edge: no distribution answers for %q", host)
			}
			arn := ""
			if vc := dep.dist.Config.ViewerCertificate; vc != nil && vc.ACMCertificateArn != nil &&
				!strings.EqualFold(strings.TrimSuffix(host, "."), dep.dist.DomainName) {
				arn = *vc.ACMCertificateArn
			}
			return certs.Certificate(host, arn)
		},
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("edge: HTTPS listener: %w", err)
	}
	srv := &http.Server{Handler: e, TLSConfig: cfg, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(e.log.Handler(), slog.LevelDebug)}
	e.https = &httpsListener{ln: ln, srv: srv}
	go func() {
		if err := srv.Serve(tls.NewListener(ln, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("edge: HTTPS listener stopped", "err", err)
		}
	}()
	return nil
}

// HTTPSAddr is the address the viewer HTTPS listener listens on, "" when
// there is none.
func (e *Edge) HTTPSAddr() string {
	if e.https == nil {
		return ""
	}
	return e.https.ln.Addr().String()
}

// httpsHost is host (a viewer's Host, maybe with the port it came to)
// as a redirect to HTTPS names it: the port of the HTTPS listener, none
// when that is 443 or there is no listener, as CloudFront's Location.
func (e *Edge) httpsHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if e.https == nil {
		return host
	}
	if _, port, err := net.SplitHostPort(e.HTTPSAddr()); err == nil && port != "443" {
		return net.JoinHostPort(host, port)
	}
	return host
}

func (l *httpsListener) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return l.srv.Shutdown(ctx)
}
