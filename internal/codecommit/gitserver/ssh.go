package gitserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"overcast"
	"overcast/internal/git"
)

// sshServer accepts git over SSH: the SSH user is an IAM SSH key ID
// (APKA...) and the client must hold that key.
type sshServer struct {
	s        *Server
	config   *ssh.ServerConfig
	listener net.Listener
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
}

// The extensions carry the authenticated caller from the key check to
// the session.
const accountExtension, userARNExtension = "account", "arn"

func (s *Server) serveSSH(ln net.Listener) (*sshServer, error) {
	hostKey, err := loadOrCreateHostKey(filepath.Join(s.dataDir, "ssh_host_ed25519_key"))
	if err != nil {
		return nil, err
	}
	srv := &sshServer{s: s}
	srv.config = &ssh.ServerConfig{PublicKeyCallback: srv.checkKey, ServerVersion: "SSH-2.0-overcast"}
	srv.config.AddHostKey(hostKey)
	srv.listener = ln
	srv.ctx, srv.cancel = context.WithCancel(context.Background())
	srv.wg.Add(1)
	go srv.accept()
	return srv, nil
}

func (srv *sshServer) close() error {
	srv.cancel()
	err := srv.listener.Close()
	srv.wg.Wait()
	return err
}

// loadOrCreateHostKey keeps the server's host key in the data dir, so that
// clients that trusted it keep trusting it across restarts.
func loadOrCreateHostKey(path string) (ssh.Signer, error) {
	if b, err := os.ReadFile(path); err == nil {
		return ssh.ParsePrivateKey(b)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(key, "overcast codecommit")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(key)
}

// checkKey accepts the key when it is the active IAM key the user names.
func (srv *sshServer) checkKey(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if srv.s.opts.SSHKeys == nil {
		return nil, errDenied
	}
	k, err := srv.s.opts.SSHKeys.SSHPublicKey(srv.ctx, conn.User())
	if err != nil {
		return nil, errDenied
	}
	if !k.Active || !bytes.Equal(k.PublicKey, key.Marshal()) {
		return nil, errDenied
	}
	return &ssh.Permissions{Extensions: map[string]string{accountExtension: k.Caller.AccountID, userARNExtension: k.Caller.ARN}}, nil
}

func (srv *sshServer) accept() {
	defer srv.wg.Done()
	for {
		c, err := srv.listener.Accept()
		if err != nil {
			return
		}
		srv.wg.Add(1)
		go func() {
			defer srv.wg.Done()
			srv.serveConn(c)
		}()
	}
}

func (srv *sshServer) serveConn(c net.Conn) {
	defer c.Close()
	conn, chans, reqs, err := ssh.NewServerConn(c, srv.config)
	if err != nil {
		return
	}
	defer conn.Close()
	go ssh.DiscardRequests(reqs)
	stop := context.AfterFunc(srv.ctx, func() { conn.Close() })
	defer stop()
	caller := overcast.Caller{AccountID: conn.Permissions.Extensions[accountExtension], Kind: overcast.PrincipalUser,
		ARN: conn.Permissions.Extensions[userARNExtension]}
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions are served")
			continue
		}
		ch, requests, err := nc.Accept()
		if err != nil {
			continue
		}
		srv.wg.Add(1)
		go func() {
			defer srv.wg.Done()
			srv.serveSession(caller, ch, requests)
		}()
	}
}

// serveSession runs the one git command an exec request asks for; env
// requests before it may set GIT_PROTOCOL (protocol version 2).
func (srv *sshServer) serveSession(caller overcast.Caller, ch ssh.Channel, requests <-chan *ssh.Request) {
	defer ch.Close()
	var env []string
	for req := range requests {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) == nil && kv.Name == "GIT_PROTOCOL" {
				env = append(env, kv.Name+"="+kv.Value)
				req.Reply(true, nil)
				continue
			}
			req.Reply(false, nil)
		case "exec":
			var cmd struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &cmd); err != nil {
				req.Reply(false, nil)
				return
			}
			req.Reply(true, nil)
			go ssh.DiscardRequests(requests)
			status := srv.exec(caller, cmd.Command, env, ch)
			ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
			return
		default:
			// No shell, no pty: CodeCommit serves git only.
			req.Reply(false, nil)
		}
	}
}

// exec runs "git-upload-pack '/v1/repos/<name>'" (or receive-pack) and
// returns its exit status.
func (srv *sshServer) exec(caller overcast.Caller, command string, env []string, ch ssh.Channel) uint32 {
	ctx := srv.ctx
	service, name, ok := parseGitCommand(command)
	if !ok {
		fmt.Fprintf(ch.Stderr(), "fatal: only git-upload-pack and git-receive-pack of %s<name> are served\n", repoPrefix)
		return 128
	}
	region, repo, err := srv.s.findRepository(ctx, caller.AccountID, name)
	if errors.Is(err, ErrNoRepository) {
		fmt.Fprintf(ch.Stderr(), "fatal: repository '%s' not found\n", name)
		return 128
	}
	if err != nil {
		srv.s.logger.Error("finding a repository", "err", err)
		return 128
	}
	if err := srv.s.authorize(ctx, caller, region, name, service == "git-receive-pack"); err != nil {
		fmt.Fprintf(ch.Stderr(), "fatal: %v\n", err)
		return 128
	}
	o := srv.s.serveOptions(repo)
	o.Env = append(o.Env, env...)
	var p *push
	if service == "git-receive-pack" {
		caller.Region = region
		if p, err = srv.s.startPush(ctx, caller, name, repo); err != nil {
			srv.s.logger.Error("listing references before a push", "err", err)
			return 128
		}
	}
	err = git.ServePack(ctx, service, repo.Dir, ch, ch, ch.Stderr(), o)
	if p != nil {
		p.finish(ctx)
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return uint32(exit.ExitCode())
	case err != nil:
		srv.s.logger.Error("serving git over ssh", "err", err)
		return 128
	}
	return 0
}

// parseGitCommand reads what git runs over SSH: the service and the
// repository path, quoted ('/v1/repos/name') or not, with or without the
// leading slash (scp-style URLs drop it).
func parseGitCommand(command string) (service, name string, ok bool) {
	service, arg, ok := strings.Cut(command, " ")
	if !ok || (service != "git-upload-pack" && service != "git-receive-pack") {
		return "", "", false
	}
	arg = strings.TrimSpace(arg)
	if len(arg) >= 2 && arg[0] == '\'' && arg[len(arg)-1] == '\'' {
		arg = arg[1 : len(arg)-1]
	}
	name, ok = strings.CutPrefix("/"+strings.TrimPrefix(arg, "/"), repoPrefix)
	name = strings.TrimSuffix(name, "/")
	if !ok || name == "" || strings.ContainsAny(name, "/'\\") {
		return "", "", false
	}
	return service, name, true
}

// findRepository finds the account's repository of that name: SSH does not
// say which region a client means (AWS tells by the host name), so the
// default region is looked in first, then the others.
func (s *Server) findRepository(ctx context.Context, account, name string) (string, Repository, error) {
	for _, region := range regions {
		repo, err := s.opts.Repositories.Repository(ctx, account, region, name)
		if !errors.Is(err, ErrNoRepository) {
			return region, repo, err
		}
	}
	return "", Repository{}, ErrNoRepository
}
