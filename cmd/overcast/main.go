// Command overcast runs AWS's application-delivery stack on one machine.
//
//	overcast up [--addr 127.0.0.1:4566] [--data-dir ~/.overcast] [--strict] [--enforce-iam]
//	            [--geoip-db GeoLite2-Country.mmdb] [--geoip-header X-Viewer-Country]
//	overcast codebuild run [-d dir] [-b buildspec] [-i image] [-p] [-e VAR=value ...] [-a artifactsDir]
//	overcast version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"overcast/internal/app"
	"overcast/internal/docker"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "up":
		if err := up(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "overcast:", err)
			os.Exit(1)
		}
	case "codebuild":
		if err := codebuild(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "overcast:", err)
			os.Exit(1)
		}
	case "version", "--version", "-v":
		fmt.Println("overcast", buildVersion())
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "overcast: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  overcast up [--addr host:port] [--data-dir dir] [--strict] [--enforce-iam]   serve the AWS endpoint
              [--store postgres://user:password@host:port/db] [--lease-ttl 5s]
              [--geoip-db file.mmdb] [--geoip-header name]
              [--cloudfront-https-addr host:port] [--codecommit-ssh-addr host:port]
              [--idp-ca-file ca.pem]
              [--cloudtrail=false] [--cloudtrail-delivery-interval 5m]
              [--docker-host unix:///path|tcp://host:port ...] [--docker-tls-ca/-cert/-key file]
  overcast codebuild run [-d dir] [-b buildspec] [-i image]     a local CodeBuild build of a directory
              [-e VAR=value ...] [-a artifactsDir] [-c cacheDir]
  overcast version                                              print the version
`)
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	addr := fs.String("addr", envOr("OVERCAST_ADDR", "127.0.0.1:4566"), "listen address (env OVERCAST_ADDR)")
	dataDir := fs.String("data-dir", envOr("OVERCAST_DATA_DIR", defaultDataDir()), "state directory (env OVERCAST_DATA_DIR)")
	storeURL := fs.String("store", os.Getenv("OVERCAST_STORE"),
		"keep state in PostgreSQL at this postgres:// URL instead of SQLite in the data dir (env OVERCAST_STORE)")
	leaseTTL := fs.Duration("lease-ttl", 5*time.Second,
		"with --store shared by several overcasts: how long the controllers' lease outlives its holder; another replica takes them over within about that long")
	strict := fs.Bool("strict", os.Getenv("OVERCAST_STRICT") == "1", "reject unknown access keys and unsigned requests (env OVERCAST_STRICT=1)")
	enforceIAM := fs.Bool("enforce-iam", os.Getenv("OVERCAST_ENFORCE_IAM") == "1",
		"authorize every call by the caller's IAM policies, as AWS does; --strict implies it (env OVERCAST_ENFORCE_IAM=1)")
	geoipDB := fs.String("geoip-db", os.Getenv("OVERCAST_GEOIP_DB"), "MaxMind-format country database CloudFront's geo restriction reads (env OVERCAST_GEOIP_DB)")
	geoipHeader := fs.String("geoip-header", os.Getenv("OVERCAST_GEOIP_HEADER"),
		"trust this request header's two-letter country code over the database, for tests; any viewer can send it (env OVERCAST_GEOIP_HEADER)")
	cdnHTTPS := fs.String("cloudfront-https-addr", os.Getenv("OVERCAST_CLOUDFRONT_HTTPS_ADDR"),
		"where CloudFront distributions answer HTTPS; default: the --addr host, port 4443 when --addr has port 4566, else a free port (env OVERCAST_CLOUDFRONT_HTTPS_ADDR)")
	blobs := fs.String("blobs", os.Getenv("OVERCAST_BLOBS"),
		"where object bytes live: s3://bucket/prefix on an S3-compatible service, shared by several overcasts; empty for the data dir (env OVERCAST_BLOBS)")
	blobsEndpoint := fs.String("blobs-endpoint", os.Getenv("OVERCAST_BLOBS_ENDPOINT"),
		"the S3-compatible service's URL for --blobs; empty for AWS's S3 (env OVERCAST_BLOBS_ENDPOINT)")
	gitSSH := fs.String("codecommit-ssh-addr", os.Getenv("OVERCAST_CODECOMMIT_SSH_ADDR"),
		"where git reaches CodeCommit over SSH; default: the --addr host, port 2222 when --addr has port 4566, else a free port (env OVERCAST_CODECOMMIT_SSH_ADDR)")
	idpCA := fs.String("idp-ca-file", os.Getenv("OVERCAST_IDP_CA_FILE"),
		"PEM certificate authorities trusted, besides the system's, when fetching OpenID Connect issuers' keys (env OVERCAST_IDP_CA_FILE)")
	recording := fs.Bool("cloudtrail", os.Getenv("OVERCAST_CLOUDTRAIL") != "0", "record every API call as a CloudTrail event (env OVERCAST_CLOUDTRAIL=0 turns it off)")
	delivery := fs.Duration("cloudtrail-delivery-interval", 5*time.Minute, "how often trails deliver log files to S3 and CloudWatch Logs")
	var hosts dockerHostsFlag
	if v := os.Getenv("OVERCAST_DOCKER_HOSTS"); v != "" {
		hosts.fromEnv = strings.Split(v, ",")
	}
	fs.Var(&hosts, "docker-host", "a Docker engine ECS tasks run on, unix:///path or tcp://host:port; repeat it for several, "+
		"each standing for a host of its own (env OVERCAST_DOCKER_HOSTS, comma-separated); default: DOCKER_HOST or the local socket")
	tlsCA := fs.String("docker-tls-ca", os.Getenv("OVERCAST_DOCKER_TLS_CA"), "CA certificate (PEM) of tcp:// --docker-host engines using TLS (env OVERCAST_DOCKER_TLS_CA)")
	tlsCert := fs.String("docker-tls-cert", os.Getenv("OVERCAST_DOCKER_TLS_CERT"), "client certificate (PEM) for tcp:// --docker-host engines (env OVERCAST_DOCKER_TLS_CERT)")
	tlsKey := fs.String("docker-tls-key", os.Getenv("OVERCAST_DOCKER_TLS_KEY"), "client key (PEM) for tcp:// --docker-host engines (env OVERCAST_DOCKER_TLS_KEY)")
	hostLost := fs.Duration("docker-host-lost-after", time.Minute, "how long one of several --docker-host engines may not answer before its tasks stop and run elsewhere")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h asked for the usage, which Parse printed
		}
		return err
	}
	dockerHosts, err := hosts.options(*tlsCA, *tlsCert, *tlsKey)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m := app.New(app.Config{Addr: *addr, DataDir: *dataDir, Store: *storeURL, Strict: *strict, EnforceIAM: *enforceIAM, Version: buildVersion(), Logger: logger, TaskEndpoint: true,
		Pprof: os.Getenv("OVERCAST_PPROF") == "1", GeoIPDB: *geoipDB, GeoIPHeader: *geoipHeader, CloudFrontHTTPSAddr: *cdnHTTPS,
		CodeCommitSSHAddr: *gitSSH, Blobs: *blobs, BlobsEndpoint: *blobsEndpoint,
		IdPCAFile: *idpCA, DisableCloudTrail: !*recording, CloudTrailDelivery: *delivery,
		DockerHosts: dockerHosts, DockerHostLostAfter: *hostLost, LeaseTTL: *leaseTTL})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		return err
	}
	mode := ""
	switch {
	case *strict:
		mode = ", strict"
	case *enforceIAM:
		mode = ", IAM enforced"
	}
	if *storeURL != "" {
		mode += ", state in PostgreSQL"
	}
	fmt.Fprintf(os.Stderr, "overcast %s listening on %s (data dir %s%s); CloudFront HTTPS on %s; CodeCommit SSH on %s\n", buildVersion(),
		m.URL(), *dataDir, mode, m.CloudFrontHTTPSAddr(), m.CodeCommitSSHAddr())
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "overcast: shutting down")
	return m.Close()
}

// dockerHostsFlag is --docker-host, repeatable; the flags replace
// OVERCAST_DOCKER_HOSTS's list rather than add to it.
type dockerHostsFlag struct{ fromEnv, given []string }

func (f *dockerHostsFlag) String() string { return strings.Join(f.list(), ",") }

func (f *dockerHostsFlag) Set(v string) error {
	f.given = append(f.given, v)
	return nil
}

func (f *dockerHostsFlag) list() []string {
	if len(f.given) > 0 {
		return f.given
	}
	return f.fromEnv
}

// options checks each host's form and gives tcp:// hosts the TLS files;
// DOCKER_CERT_PATH's ca.pem, cert.pem and key.pem serve when none is
// given, as for the docker CLI.
func (f *dockerHostsFlag) options(ca, cert, key string) ([]docker.Options, error) {
	var out []docker.Options
	for _, h := range f.list() {
		h = strings.TrimSpace(h)
		switch {
		case h == "":
			continue
		case strings.HasPrefix(h, "unix:///"):
			out = append(out, docker.Options{Host: h})
		case strings.HasPrefix(h, "tcp://"):
			o := docker.Options{Host: h, TLSCA: ca, TLSCert: cert, TLSKey: key}
			if dir := os.Getenv("DOCKER_CERT_PATH"); dir != "" && ca == "" && cert == "" && key == "" {
				o.TLSCA, o.TLSCert, o.TLSKey = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			}
			out = append(out, o)
		default:
			return nil, fmt.Errorf("--docker-host %q: want unix:///path or tcp://host:port", h)
		}
	}
	return out, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func defaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".overcast"
	}
	return filepath.Join(home, ".overcast")
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
