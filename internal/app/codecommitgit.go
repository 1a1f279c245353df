package app

import (
	"context"
	"errors"
	"net"
	"strconv"

	"overcast"
	"overcast/internal/codecommit"
	"overcast/internal/codecommit/gitserver"
	"overcast/internal/iam"
	"overcast/internal/service"
)

// codecommitGit builds CodeCommit with its git data plane: smart HTTP on
// the gateway and SSH on its own listener, whose address the API reports
// in cloneUrlSsh.
func codecommitGit(env *service.Env, cfg Config, keys keyStores, iamSvc *iam.Service, opts codecommit.Options) (*codecommit.Service, *gitserver.Server, error) {
	ln, err := net.Listen("tcp", codecommitSSHAddr(cfg))
	if err != nil {
		return nil, nil, err
	}
	repos := &gitRepositories{}
	git := gitserver.New(env.Named("codecommit-git"), gitserver.Options{Repositories: repos, Keys: keys,
		Credentials: gitCredentials{iamSvc}, SSHKeys: gitSSHKeys{iamSvc}, SSHListener: ln})
	opts.SSHAddress = reachableAddr(ln.Addr())
	repos.svc = codecommit.New(env.Named("codecommit"), opts)
	return repos.svc, git, nil
}

// codecommitSSHAddr is where git's SSH listens: the configured address,
// else the API's host on port 2222 when the API has the default port
// 4566, else any free port of that host.
func codecommitSSHAddr(cfg Config) string {
	return sideListenerAddr(cfg, cfg.CodeCommitSSHAddr, "2222")
}

// reachableAddr is addr as a client on this machine dials it: loopback
// for a listener on every interface.
func reachableAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}

// CodeCommitSSHAddr is where git reaches CodeCommit over SSH.
func (m *Main) CodeCommitSSHAddr() string {
	return ServiceOf[*gitserver.Server](m).SSHAddr()
}

// gitRepositories is CodeCommit seen by the git data plane.
type gitRepositories struct{ svc *codecommit.Service }

func (g *gitRepositories) Repository(ctx context.Context, account, region, name string) (gitserver.Repository, error) {
	r, err := g.svc.Repository(ctx, account, region, name)
	if errors.Is(err, codecommit.ErrNoRepository) {
		return gitserver.Repository{}, gitserver.ErrNoRepository
	}
	return gitserver.Repository{Dir: r.Dir, DefaultBranch: r.DefaultBranch}, err
}

func (g *gitRepositories) RecordPush(ctx context.Context, account, region, name string, changes []gitserver.RefChange) error {
	cc := make([]codecommit.RefChange, len(changes))
	for i, c := range changes {
		cc[i] = codecommit.RefChange(c)
	}
	return g.svc.RecordPush(ctx, account, region, name, cc)
}

// gitCredentials are IAM's CodeCommit Git credentials.
type gitCredentials struct{ iam *iam.Service }

func (g gitCredentials) AuthenticateGitCredential(ctx context.Context, userName, password string) (overcast.Caller, error) {
	c, err := g.iam.AuthenticateServiceCredential(ctx, iam.CodeCommitService, userName, password)
	if errors.Is(err, iam.ErrBadServiceCredential) {
		return c, gitserver.ErrBadCredential
	}
	return c, err
}

// gitSSHKeys are the SSH public keys IAM users uploaded.
type gitSSHKeys struct{ iam *iam.Service }

func (g gitSSHKeys) SSHPublicKey(ctx context.Context, keyID string) (gitserver.SSHKey, error) {
	k, found, err := g.iam.LookupSSHPublicKey(ctx, keyID)
	switch {
	case err != nil:
		return gitserver.SSHKey{}, err
	case !found:
		return gitserver.SSHKey{}, gitserver.ErrBadCredential
	}
	return gitserver.SSHKey{Caller: k.Caller, PublicKey: k.Wire, Active: k.Active}, nil
}
