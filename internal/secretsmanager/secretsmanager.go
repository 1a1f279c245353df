// Package secretsmanager implements AWS Secrets Manager: secrets with
// versions and staging labels, scheduled deletion and restore, tags,
// resource policies and random passwords, per account and region. Secret
// values are sealed at rest with the local key (package secretbox stands in
// for KMS); a background sweep purges secrets whose recovery window ended.
package secretsmanager

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"weak"

	"overcast"
	api "overcast/internal/api/secretsmanager"
	"overcast/internal/controller"
	"overcast/internal/ids"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the Secrets Manager API, and the secret resolver other
// services (ECS task secrets) use.
type Service struct {
	api.UnimplementedServer
	service.Base
	sealer service.Sealer

	// deletions purges each secret scheduled for deletion when its
	// recovery window ends. Expired secrets are invisible to the API as
	// soon as their deletion date passes; the controller frees the space.
	deletions *controller.Controller

	// suffixes are the random suffixes drawn for CreateSecret calls that
	// authorization saw before the call ran, by the call's input: the
	// secret gets the ARN its creation was authorized on.
	suffixes sync.Map // weak.Pointer[api.CreateSecretRequest] -> string
}

var _ api.Server = (*Service)(nil)

// New returns the service.
func New(env *service.Env) *Service {
	s := &Service{Base: env.Base(), sealer: env.Sealer}
	scheduled := store.TableKeysFunc(s.Store, deletionsTable) // the deletion index
	s.deletions = env.Controllers.AddFunc("secretsmanager-deletions", s.reconcileDeletion, scheduled)
	return s
}

// API is Secrets Manager's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: s.authzTable()} }

const (
	// secretsTable holds one record per secret, keyed by scope and name.
	secretsTable = "secretsmanager.secrets"
	// valuesTable holds the sealed value of each version, keyed by scope,
	// name and version ID.
	valuesTable = "secretsmanager.values"
	// deletionsTable indexes secrets scheduled for deletion by the time
	// they are due, so the sweep reads only what is due.
	deletionsTable = "secretsmanager.deletions"
)

const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"

	maxVersions      = 100
	maxTags          = 50
	defaultWindow    = 30
	updateAttempts   = 10
	defaultKeyIDName = "DefaultEncryptionKey"
)

// scope is where secrets live: every account and region has its own.
type scope = overcast.Scope

// valuesPrefix is the prefix of a secret's values: ':' cannot appear in a
// secret name, so one secret's values never share it with another's.
func valuesPrefix(sc scope, name string) string        { return sc.Key(name) + ":" }
func valueKey(sc scope, name, versionID string) string { return valuesPrefix(sc, name) + versionID }

// secret is the record of a secret.
type secret struct {
	Name        string    `json:"name"`
	ARN         string    `json:"arn"`
	Description string    `json:"description,omitempty"`
	KmsKeyID    string    `json:"kmsKeyId,omitempty"`
	Tags        []tag     `json:"tags,omitempty"`
	Policy      string    `json:"policy,omitempty"`
	Created     time.Time `json:"created"`
	Changed     time.Time `json:"changed"`
	// Accessed is the day (midnight UTC) of the last GetSecretValue, as
	// AWS reports it.
	Accessed *time.Time `json:"accessed,omitempty"`
	// DeletionDate is when a secret scheduled for deletion is purged; nil
	// for a live secret.
	DeletionDate *time.Time      `json:"deletionDate,omitempty"`
	Versions     []secretVersion `json:"versions,omitempty"` // oldest first
}

type secretVersion struct {
	ID       string     `json:"id"`
	Stages   []string   `json:"stages,omitempty"`
	Created  time.Time  `json:"created"`
	Accessed *time.Time `json:"accessed,omitempty"`
	KmsKeyID string     `json:"kmsKeyId,omitempty"`
}

type tag = service.Tag

// sealedValue is one version's value, in valuesTable.
type sealedValue struct {
	Binary bool   `json:"binary,omitempty"`
	Sealed []byte `json:"sealed"`
}

// secretValue is a version's value in the clear: a string or bytes.
type secretValue struct {
	str    *string
	binary []byte
}

func (v secretValue) bytes() []byte {
	if v.str != nil {
		return []byte(*v.str)
	}
	return v.binary
}

func (v secretValue) equal(o secretValue) bool {
	return (v.str != nil) == (o.str != nil) && string(v.bytes()) == string(o.bytes())
}

func (s *secret) version(id string) *secretVersion {
	for i := range s.Versions {
		if s.Versions[i].ID == id {
			return &s.Versions[i]
		}
	}
	return nil
}

func (s *secret) withStage(stage string) *secretVersion {
	for i := range s.Versions {
		if slices.Contains(s.Versions[i].Stages, stage) {
			return &s.Versions[i]
		}
	}
	return nil
}

// scheduled reports whether the secret is marked for deletion.
func (s *secret) scheduled() bool { return s.DeletionDate != nil }

// expired reports whether the secret's recovery window is over: it is gone,
// whether or not the sweep has purged it yet.
func (s *secret) expired(now time.Time) bool {
	return s.DeletionDate != nil && !now.Before(*s.DeletionDate)
}

func (s *secret) stagesMap() api.SecretVersionsToStagesMapType {
	out := api.SecretVersionsToStagesMapType{}
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			out[v.ID] = slices.Clone(v.Stages)
		}
	}
	return out
}

func (s *secret) apiTags() api.TagListType {
	return service.Map(s.Tags, func(t tag) api.Tag { return api.Tag{Key: new(t.Key), Value: new(t.Value)} })
}

// sealContext binds a value to the secret (its ARN names the account,
// region, name and incarnation) and the version.
func sealContext(arn, versionID string) []byte {
	return []byte("secretsmanager\x00" + arn + "\x00" + versionID)
}

func (s *Service) seal(sec *secret, versionID string, v secretValue) sealedValue {
	return sealedValue{Binary: v.str == nil, Sealed: s.sealer.Seal(v.bytes(), sealContext(sec.ARN, versionID))}
}

func (s *Service) open(sec *secret, versionID string, sv sealedValue) (secretValue, error) {
	plain, err := s.sealer.Open(sv.Sealed, sealContext(sec.ARN, versionID))
	if err != nil {
		return secretValue{}, fmt.Errorf("secretsmanager: decrypting %s version %s: %w", sec.Name, versionID, err)
	}
	if sv.Binary {
		return secretValue{binary: plain}, nil
	}
	return secretValue{str: new(string(plain))}, nil
}

func (s *Service) readValue(tx store.Tx, sc scope, sec *secret, versionID string) (secretValue, error) {
	var sv sealedValue
	if _, err := store.GetJSON(tx, valuesTable, valueKey(sc, sec.Name, versionID), &sv); err != nil {
		return secretValue{}, err
	}
	return s.open(sec, versionID, sv)
}

// lookup finds the secret an ID names: a name, a full ARN, or a partial ARN
// (the ARN without the random suffix). Secrets past their deletion date do
// not exist. ARNs must name sc's account and region.
func (s *Service) lookup(tx store.Tx, sc scope, id string) (secret, int64, error) {
	var sec secret
	try := func(name string) (int64, bool, error) {
		ver, err := store.GetJSON(tx, secretsTable, sc.Key(name), &sec)
		if errors.Is(err, store.ErrNotFound) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		if sec.expired(s.Now()) {
			return 0, false, nil
		}
		return ver, true, nil
	}
	if !strings.HasPrefix(id, "arn:") {
		ver, ok, err := try(id)
		if err == nil && !ok {
			err = secretNotFound()
		}
		return sec, ver, err
	}
	a, ok := overcast.ParseARN(id)
	rest, isSecret := strings.CutPrefix(a.Resource, "secret:")
	if !ok || a.Service != "secretsmanager" || !isSecret || a.AccountID != sc.Account || a.Region != sc.Region {
		return sec, 0, secretNotFound()
	}
	if n := len(rest) - 7; n > 0 && rest[n] == '-' {
		ver, ok, err := try(rest[:n])
		if err != nil || (ok && sec.ARN == id) {
			return sec, ver, err
		}
	}
	ver, ok, err := try(rest)
	if err == nil && !ok {
		err = secretNotFound()
	}
	return sec, ver, err
}

// purge deletes a secret, its values and its deletion index entry.
func purge(tx store.Tx, sc scope, sec *secret) error {
	if err := tx.Delete(secretsTable, sc.Key(sec.Name), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, err := store.DeleteScanned(tx, valuesTable, store.ScanOptions{Prefix: valuesPrefix(sc, sec.Name)}); err != nil {
		return err
	}
	if sec.DeletionDate != nil {
		err := tx.Delete(deletionsTable, deletionKey(*sec.DeletionDate, sc, sec.Name), store.AnyVersion)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// deletionKey orders the deletion index by due time; the fixed-width UTC
// timestamp sorts like the time it stands for.
func deletionKey(due time.Time, sc scope, name string) string {
	return due.UTC().Format(deletionTimeFormat) + "|" + sc.Key(name)
}

const deletionTimeFormat = "20060102T150405.000000000Z"

// secretARN is a new ARN for a secret: AWS appends a hyphen and six random
// characters, so that a re-created secret never has an old one's ARN.
func (s *Service) secretARN(sc scope, name string) string {
	return partialARN(sc, name+"-"+s.IDs.String(ids.Alnum, 6))
}

// newSecretARN is the ARN the secret a CreateSecret call makes gets: the
// same whether authorization or the call asks first, because IAM
// authorizes the creation on the ARN with its random suffix.
func (s *Service) newSecretARN(sc scope, in *api.CreateSecretRequest) string {
	key := weak.Make(in)
	if suffix, ok := s.suffixes.Load(key); ok {
		return partialARN(sc, *in.Name+"-"+suffix.(string))
	}
	suffix, loaded := s.suffixes.LoadOrStore(key, s.IDs.String(ids.Alnum, 6))
	if !loaded {
		// A call refused before it ran leaves its suffix behind: it goes
		// with the input.
		runtime.AddCleanup(in, func(key weak.Pointer[api.CreateSecretRequest]) { s.suffixes.Delete(key) }, key)
	}
	return partialARN(sc, *in.Name+"-"+suffix.(string))
}

// partialARN is a secret's ARN without its random suffix: what a secret
// that does not exist (yet) is authorized as.
func partialARN(sc scope, name string) string {
	return overcast.NewARN("secretsmanager", sc.Region, sc.Account, "secret:"+name).String()
}

// newVersionID is a random UUID, what AWS uses when a request brings no
// ClientRequestToken.
func (s *Service) newVersionID() string { return s.IDs.UUID() }

// day is the date AWS reports for LastAccessedDate: access is tracked to
// the day.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// errors shaped like AWS's.

func secretNotFound() error {
	return api.NewResourceNotFoundException("Secrets Manager can't find the specified secret.")
}

func markedForDeletion() error {
	return api.NewInvalidRequestException("You can't perform this operation on the secret because it was marked for deletion.")
}
