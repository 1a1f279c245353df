// Package codecommit implements AWS CodeCommit on real git repositories:
// each repository is a bare repository on disk (package git reads and
// writes it), its metadata (name, description, default branch, tags,
// triggers) a record in the store. The API's commits (PutFile,
// CreateCommit) and the git data plane's pushes update the same
// references, with compare-and-swap, so neither loses the other's.
package codecommit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/awsproto"
	"overcast/internal/git"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Options are what the app decides for CodeCommit.
type Options struct {
	// SSHAddress is host:port of the git SSH listener, for cloneUrlSsh.
	// Empty reports the gateway's host on SSH's default port.
	SSHAddress string
	// Topics publishes trigger notifications to SNS; nil sends none.
	Topics Topics
}

// Topics is what triggers need from SNS.
type Topics interface {
	// Publish publishes message to the topic with ARN topicARN as
	// CodeCommit's service principal does for a trigger of the repository
	// with ARN sourceARN (the topic's policy decides).
	Publish(ctx context.Context, sourceARN, topicARN, subject, message string) error
}

// Service is the CodeCommit API, and the repository directory the git
// data plane serves.
type Service struct {
	api.UnimplementedServer
	service.Base
	dataDir   string
	addresses service.Addresses
	opts      Options
}

var _ api.Server = (*Service)(nil)

// New returns the service.
func New(env *service.Env, opts Options) *Service {
	return &Service{Base: env.Base(), dataDir: filepath.Join(env.DataDir, "codecommit"), addresses: env.Addresses, opts: opts}
}

// API is CodeCommit's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: s.authzTable()} }

const (
	// repositoriesTable holds one record per repository, keyed by scope
	// and name.
	repositoriesTable = "codecommit.repositories"
)

// updateAttempts bounds the retries of a read-modify-write that lost a race.
const updateAttempts = 10

type scope = overcast.Scope

// repository is a repository's metadata; its git data is on disk under
// its ID, so that a rename moves nothing.
type repository struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Description   string            `json:"description,omitempty"`
	DefaultBranch string            `json:"defaultBranch,omitempty"`
	Created       time.Time         `json:"created"`
	Modified      time.Time         `json:"modified"`
	KMSKeyID      string            `json:"kmsKeyId,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	Triggers      []trigger         `json:"triggers,omitempty"`
	// TriggersConfigurationID changes whenever the triggers do.
	TriggersConfigurationID string `json:"triggersConfigurationId,omitempty"`
}

// trigger is one of a repository's triggers.
type trigger struct {
	Name           string   `json:"name"`
	DestinationARN string   `json:"destinationArn"`
	CustomData     string   `json:"customData,omitempty"`
	Branches       []string `json:"branches,omitempty"`
	Events         []string `json:"events"`
}

// dir is where the repository's git data lives.
func (s *Service) dir(sc scope, id string) string {
	return filepath.Join(s.dataDir, sc.Account, sc.Region, id+".git")
}

func (s *Service) repo(sc scope, r *repository) *git.Repo { return git.Open(s.dir(sc, r.ID)) }

func (s *Service) arn(sc scope, name string) string { return sc.ARN("codecommit", name) }

// metadata is r as the API reports it.
func (s *Service) metadata(sc scope, r *repository) *api.RepositoryMetadata {
	sshHost := s.opts.SSHAddress
	if sshHost == "" {
		sshHost, _, _ = net.SplitHostPort(s.addresses.Host)
	}
	return &api.RepositoryMetadata{
		AccountId:             new(sc.Account),
		RepositoryId:          new(r.ID),
		RepositoryName:        new(r.Name),
		RepositoryDescription: service.OmitZero(r.Description),
		DefaultBranch:         service.OmitZero(r.DefaultBranch),
		LastModifiedDate:      new(r.Modified),
		CreationDate:          new(r.Created),
		CloneUrlHttp:          new(s.addresses.GitURL(sc.Region) + "/v1/repos/" + r.Name),
		CloneUrlSsh:           new("ssh://" + sshHost + "/v1/repos/" + r.Name),
		Arn:                   new(s.arn(sc, r.Name)),
		KmsKeyId:              service.OmitZero(r.KMSKeyID),
	}
}

// withMessage is the modeled error e with AWS's message (CodeCommit's
// model gives its errors no message member, but the service sends one).
func withMessage(e awsproto.APIError, format string, args ...any) error {
	return &awsproto.Error{Code: e.ErrorCode(), Status: e.HTTPStatusCode(), Message: fmt.Sprintf(format, args...)}
}

// checkLength refuses a value of more than max characters with tooLong, and
// an empty one with missing; a nil missing makes the value optional.
func checkLength(v string, max int, missing, tooLong error) error {
	if v == "" && missing != nil {
		return missing
	}
	if utf8.RuneCountInString(v) > max {
		return tooLong
	}
	return nil
}

func repositoryDoesNotExist(name string) error {
	return withMessage(&api.RepositoryDoesNotExistException{}, "%s does not exist", name)
}

// checkRepositoryName answers AWS's errors for a name CodeCommit refuses.
func checkRepositoryName(name string) error {
	if name == "" {
		return withMessage(&api.RepositoryNameRequiredException{}, "A repository name is required but was not specified.")
	}
	if !validRepositoryName(name) {
		return withMessage(&api.InvalidRepositoryNameException{}, "The repository name is not valid. Repository names can be any "+
			"valid combination of letters, numbers, periods, underscores, and dashes between 1 and 100 characters in length. "+
			"Names are case sensitive. For more information, see Limits in the AWS CodeCommit User Guide.")
	}
	return nil
}

// validRepositoryName: [\w.-]{1,100}, and not ending in .git (which git
// clients strip).
func validRepositoryName(name string) bool {
	if len(name) > 100 || strings.HasSuffix(name, ".git") {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return name != ""
}

// isRepositoryMissing reports whether err is getRepository's answer for a
// repository that does not exist.
func isRepositoryMissing(err error) bool {
	e, ok := errors.AsType[*awsproto.Error](err)
	return ok && e.Code == (&api.RepositoryDoesNotExistException{}).ErrorCode()
}

func getRepository(tx store.Tx, sc scope, name string) (repository, int64, error) {
	var r repository
	ver, err := store.GetJSON(tx, repositoriesTable, sc.Key(name), &r)
	if errors.Is(err, store.ErrNotFound) {
		err = repositoryDoesNotExist(name)
	}
	return r, ver, err
}

// lookup reads the repository a request names, checking the name first.
func (s *Service) lookup(ctx context.Context, name *string) (scope, repository, error) {
	sc := overcast.ScopeOf(ctx)
	n := service.Deref(name)
	if err := checkRepositoryName(n); err != nil {
		return sc, repository{}, err
	}
	r, err := viewItem(ctx, s.Store, func(tx store.Tx) (repository, int64, error) { return getRepository(tx, sc, n) })
	return sc, r, err
}

// viewItem reads one record with get, in a read-only transaction.
func viewItem[T any](ctx context.Context, st store.Store, get func(tx store.Tx) (T, int64, error)) (T, error) {
	var v T
	err := st.View(ctx, func(tx store.Tx) (err error) {
		v, _, err = get(tx)
		return err
	})
	return v, err
}

// update applies change to the repository called name and writes it back.
func (s *Service) update(ctx context.Context, name string, change func(r *repository) error) (repository, error) {
	sc := overcast.ScopeOf(ctx)
	if err := checkRepositoryName(name); err != nil {
		return repository{}, err
	}
	var r repository
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) (err error) {
		r, err = rewriteRepository(tx, sc, name, change)
		return err
	})
	return r, err
}

// updateAndNotify runs fn in an update, retried when it loses a race, and
// once it commits wakes the bus's deliverers for the events fn published.
func (s *Service) updateAndNotify(ctx context.Context, fn func(tx store.Tx) error) error {
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, fn)
	if err == nil {
		s.Bus.Notify()
	}
	return err
}

// rewriteRepository applies change to the repository called name and writes
// it back in tx, at the version read: a write in between fails the update.
func rewriteRepository(tx store.Tx, sc scope, name string, change func(r *repository) error) (repository, error) {
	r, ver, err := getRepository(tx, sc, name)
	if err != nil {
		return r, err
	}
	if err := change(&r); err != nil {
		return r, err
	}
	_, err = store.PutJSON(tx, repositoriesTable, sc.Key(r.Name), r, ver)
	return r, err
}

// ErrNoRepository is what RepositoryDir and Repository answer for a name
// the account has no repository of in the region (wrapped with the API's
// RepositoryDoesNotExistException, which errors.As finds too).
var ErrNoRepository = errors.New("codecommit: no such repository")

// Repository is a repository as the git data plane serves it.
type Repository struct {
	ID, Name string
	Dir      string // the bare git repository
	// DefaultBranch is "" until the repository's first branch arrives.
	DefaultBranch string
}

// Repository finds the repository called name in the account and region,
// for the git data plane; ErrNoRepository when there is none.
func (s *Service) Repository(ctx context.Context, account, region, name string) (Repository, error) {
	sc := scope{Account: account, Region: region}
	r, err := viewItem(ctx, s.Store, func(tx store.Tx) (repository, int64, error) { return getRepository(tx, sc, name) })
	if isRepositoryMissing(err) {
		return Repository{}, fmt.Errorf("%w: %w", ErrNoRepository, err)
	}
	if err != nil {
		return Repository{}, err
	}
	return Repository{ID: r.ID, Name: r.Name, Dir: s.dir(sc, r.ID), DefaultBranch: r.DefaultBranch}, nil
}

// RepositoryDir is the git directory of the repository called name in the
// account and region; ErrNoRepository when there is none.
func (s *Service) RepositoryDir(ctx context.Context, account, region, name string) (string, error) {
	r, err := s.Repository(ctx, account, region, name)
	return r.Dir, err
}

// Start removes what a crash left on disk: the git data of repositories
// whose creation never committed or whose deletion stopped short, and the
// temporary files of commits being written.
func (s *Service) Start(ctx context.Context) error {
	known := map[string]bool{}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, repositoriesTable, store.ScanOptions{}, func(_ string, r repository, _ int64) error {
			known[r.ID] = true
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("codecommit: start: %w", err)
	}
	dirs, err := filepath.Glob(filepath.Join(s.dataDir, "*", "*", "*.git"))
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		if !known[strings.TrimSuffix(filepath.Base(dir), ".git")] {
			s.removeAll(dir)
			continue
		}
		if err := git.Open(dir).RemoveTempFiles(); err != nil {
			s.Logger.Warn("removing a repository's temporary files", "dir", dir, "err", err)
		}
	}
	return nil
}

// removeAll deletes a repository's git data, logging what it could not.
func (s *Service) removeAll(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		s.Logger.Warn("removing a repository's git data", "dir", dir, "err", err)
	}
}
