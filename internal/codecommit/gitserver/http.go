package gitserver

import (
	"errors"
	"net/http"
	"strings"

	"overcast/internal/git"
)

// repoPrefix starts every repository's path, over HTTP and SSH.
const repoPrefix = "/v1/repos/"

// realm is what git shows when it asks for a user name and password.
const realm = `Basic realm="AWS CodeCommit"`

// ServeHTTP serves git's smart HTTP protocol for /v1/repos/<name>/...:
// no credentials get 401 (git then asks its credential helper), wrong
// ones 403, an unknown repository 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, repoPrefix), "/")
	if name == "" {
		http.NotFound(w, r)
		return
	}
	user, password, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", realm)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	ctx := r.Context()
	caller, err := s.authenticateBasic(ctx, user, password, r.Host, repoPrefix+name)
	if s.failed(w, err, errDenied, http.StatusForbidden, "Forbidden", "authenticating a git request") {
		return
	}
	repo, err := s.opts.Repositories.Repository(ctx, caller.AccountID, caller.Region, name)
	if s.failed(w, err, ErrNoRepository, http.StatusNotFound, "Repository not found", "finding a repository") {
		return
	}
	push := rest == "git-receive-pack" || r.URL.Query().Get("service") == "git-receive-pack"
	if err := s.authorize(ctx, caller, caller.Region, name, push); err != nil {
		// git shows the body of a refusal: the reason, as AWS gives it.
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	backend := git.HTTPBackend(repo.Dir, repoPrefix+name, s.serveOptions(repo))
	// Go's CGI handler refuses chunked bodies, which git sends for any push
	// over its post buffer; http-backend reads a body of no stated length
	// to its end, so the body goes through as such.
	r.TransferEncoding = nil
	if rest != "git-receive-pack" || r.Method != http.MethodPost {
		backend.ServeHTTP(w, r)
		return
	}
	p, err := s.startPush(ctx, caller, name, repo)
	if err != nil {
		s.internalError(w, "listing references before a push", err)
		return
	}
	backend.ServeHTTP(w, r)
	p.finish(ctx)
}

// failed answers err, if there is one, and reports whether it did: the
// refusal known stands for gets status and message, any other error is
// an internal error while doing.
func (s *Server) failed(w http.ResponseWriter, err, known error, status int, message, doing string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, known):
		http.Error(w, message, status)
	default:
		s.internalError(w, doing, err)
	}
	return true
}

func (s *Server) internalError(w http.ResponseWriter, doing string, err error) {
	s.logger.Error(doing, "err", err)
	http.Error(w, "Internal Server Error", http.StatusInternalServerError)
}
