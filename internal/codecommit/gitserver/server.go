// Package gitserver is CodeCommit's git data plane: git's smart HTTP
// protocol at /v1/repos/<name> on the gateway, authenticated with the aws
// CLI credential helper's SigV4 passwords or IAM Git credentials, and SSH
// with public keys uploaded to IAM. Every push is reported to CodeCommit
// as the reference changes it made.
package gitserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"overcast"
	"overcast/internal/git"
	"overcast/internal/service"
)

// Repositories is what the git server needs of CodeCommit.
type Repositories interface {
	// Repository finds a repository by name; ErrNoRepository when the
	// account has none of that name in region.
	Repository(ctx context.Context, account, region, name string) (Repository, error)
	// RecordPush reports the references a push changed.
	RecordPush(ctx context.Context, account, region, name string, changes []RefChange) error
}

// Repository is a repository as the git server serves it.
type Repository struct {
	Dir           string // the bare repository on disk
	DefaultBranch string // "" while it has none
}

// RefChange is a reference a push created, moved or deleted: Old is ""
// for a created reference, New "" for a deleted one.
type RefChange struct {
	Ref, Old, New string
}

// ErrNoRepository is Repositories' answer for a name it does not know.
var ErrNoRepository = errors.New("gitserver: no such repository")

// KeyStore resolves access keys (the gateway's key stores: IAM's, STS's).
type KeyStore interface {
	LookupAccessKey(ctx context.Context, accessKeyID string) (overcast.Credentials, error)
}

// GitCredentials checks IAM service-specific credentials for CodeCommit.
type GitCredentials interface {
	// AuthenticateGitCredential returns the IAM user whose active
	// CodeCommit credential has userName and password, or
	// ErrBadCredential.
	AuthenticateGitCredential(ctx context.Context, userName, password string) (overcast.Caller, error)
}

// SSHKeys finds the SSH public keys IAM users uploaded.
type SSHKeys interface {
	// SSHPublicKey returns the key with ID keyID (APKA...), or
	// ErrBadCredential when there is none.
	SSHPublicKey(ctx context.Context, keyID string) (SSHKey, error)
}

// SSHKey is an uploaded SSH public key.
type SSHKey struct {
	Caller    overcast.Caller // the IAM user it belongs to
	PublicKey []byte          // the key in SSH wire form
	Active    bool
}

// ErrBadCredential is what GitCredentials and SSHKeys answer for a
// credential they do not accept.
var ErrBadCredential = errors.New("gitserver: credential not accepted")

// Options configure a Server.
type Options struct {
	Repositories Repositories
	Keys         KeyStore
	Credentials  GitCredentials
	SSHKeys      SSHKeys
	// SSHListener is where SSH clients connect; nil for no SSH. The
	// server closes it.
	SSHListener net.Listener
}

// Server serves CodeCommit's repositories to git clients.
type Server struct {
	opts     Options
	now      func() time.Time
	strict   bool
	dataDir  string
	hooksDir string
	logger   *slog.Logger
	ssh      *sshServer
	// authorizer, under --enforce-iam, checks fetches and pushes.
	authorizer Authorizer
}

// New builds the git server; Start writes its hooks and starts SSH.
func New(env *service.Env, opts Options) *Server {
	dir := filepath.Join(env.DataDir, "codecommit-git")
	return &Server{opts: opts, now: env.Clock.Now, strict: env.Strict, dataDir: dir,
		hooksDir: filepath.Join(dir, "hooks"), logger: env.Logger}
}

// Planes serves git over HTTP on the gateway.
func (s *Server) Planes() []service.Plane {
	return []service.Plane{{Name: "codecommit-git", Match: service.PathPrefix(repoPrefix), Auth: service.AuthNone, Handler: s}}
}

// Start writes the hook that refuses what CodeCommit refuses on push and
// starts listening for SSH.
func (s *Server) Start(ctx context.Context) error {
	if err := git.WriteHook(s.hooksDir, "pre-receive", preReceiveHook); err != nil {
		return err
	}
	if s.opts.SSHListener == nil {
		return nil
	}
	srv, err := s.serveSSH(s.opts.SSHListener)
	if err != nil {
		return err
	}
	s.ssh = srv
	return nil
}

// Close stops SSH.
func (s *Server) Close() error {
	switch {
	case s.ssh != nil:
		return s.ssh.close()
	case s.opts.SSHListener != nil:
		return s.opts.SSHListener.Close()
	}
	return nil
}

// SSHAddr is where SSH listens, "" when it does not.
func (s *Server) SSHAddr() string {
	if s.opts.SSHListener == nil {
		return ""
	}
	return s.opts.SSHListener.Addr().String()
}
