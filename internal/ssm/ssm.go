// Package ssm implements the Parameter Store of AWS Systems Manager:
// String, StringList and SecureString parameters with versions, labels,
// hierarchies, tiers and tags, per account and region. SecureString values
// are sealed at rest with the local key (package secretbox stands in for
// KMS); other values are stored as given, as AWS does.
package ssm

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/ssm"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the Parameter Store API, and the parameter resolver other
// services (ECS task secrets) use.
type Service struct {
	api.UnimplementedServer
	service.Base
	sealer service.Sealer
}

var _ api.Server = (*Service)(nil)

// New returns the service.
func New(env *service.Env) *Service {
	return &Service{Base: env.Base(), sealer: env.Sealer}
}

// API is Parameter Store's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

const (
	// parametersTable holds one record per parameter: its latest version,
	// labels and tags, keyed by scope and name.
	parametersTable = "ssm.parameters"
	// historyTable holds every retained version, keyed by scope, name and
	// zero-padded version so that a prefix scan lists them oldest first.
	historyTable = "ssm.history"
)

// updateAttempts bounds the retries of a read-modify-write that lost a race.
const updateAttempts = 10

// scope is where parameters live: every account and region has its own.
type scope = overcast.Scope

// historyPrefix is the prefix of a parameter's versions: ':' cannot appear
// in a parameter name, so one name's history never shares a prefix with
// another name's.
func historyPrefix(sc scope, name string) string { return sc.Key(name) + ":" }

func historyKey(sc scope, name string, version int64) string {
	return historyPrefix(sc, name) + fmt.Sprintf("%019d", version)
}

// parameterARN is the parameter's ARN: AWS writes "parameter/name", and a
// name that already starts with a slash does not get a second one.
func parameterARN(sc scope, name string) string {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return sc.ARN("ssm", "parameter"+name)
}

// version is one version of a parameter, as PutParameter wrote it.
type version struct {
	Version        int64     `json:"version"`
	Type           string    `json:"type"`
	KeyID          string    `json:"keyId,omitempty"`
	Description    string    `json:"description,omitempty"`
	AllowedPattern string    `json:"allowedPattern,omitempty"`
	Tier           string    `json:"tier"`
	DataType       string    `json:"dataType"`
	Policies       string    `json:"policies,omitempty"`
	Value          string    `json:"value,omitempty"`  // String and StringList: stored as given, as AWS does
	Sealed         []byte    `json:"sealed,omitempty"` // SecureString: the value, sealed
	Modified       time.Time `json:"modified"`
	ModifiedBy     string    `json:"modifiedBy,omitempty"`
}

// parameter is the record of a parameter: the latest version, inline, plus
// what belongs to the parameter rather than a version.
type parameter struct {
	version
	Name string `json:"name"`
	// Oldest is the oldest version still kept; versions Oldest..Version all
	// exist in historyTable.
	Oldest int64   `json:"oldest"`
	Labels []label `json:"labels,omitempty"` // in the order they were attached
	Tags   []tag   `json:"tags,omitempty"`
}

type label struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

type tag = service.Tag

// labelsOf returns the labels attached to version v, in attachment order.
func (p *parameter) labelsOf(v int64) []string {
	out := []string{}
	for _, l := range p.Labels {
		if l.Version == v {
			out = append(out, l.Name)
		}
	}
	return out
}

// labelVersion returns the version a label is attached to.
func (p *parameter) labelVersion(name string) (int64, bool) {
	for _, l := range p.Labels {
		if l.Name == name {
			return l.Version, true
		}
	}
	return 0, false
}

func getParameter(tx store.Tx, sc scope, name string) (parameter, int64, error) {
	var p parameter
	ver, err := store.GetJSON(tx, parametersTable, sc.Key(name), &p)
	return p, ver, err
}

// namedParameter reads the parameter called name, or answers
// ParameterNotFound.
func namedParameter(tx store.Tx, sc scope, name string) (parameter, int64, error) {
	p, ver, err := getParameter(tx, sc, name)
	if isNotFound(err) {
		err = parameterNotFound(name)
	}
	return p, ver, err
}

// checkVersion answers ParameterVersionNotFound unless version v of p is
// still kept.
func (p *parameter) checkVersion(v int64) error {
	if v < p.Oldest || v > p.Version {
		return versionNotFound(p.Name, v)
	}
	return nil
}

func getVersion(tx store.Tx, sc scope, name string, v int64) (version, error) {
	var out version
	_, err := store.GetJSON(tx, historyTable, historyKey(sc, name, v), &out)
	return out, err
}

// sealContext binds a SecureString value to its account, region, name and
// version.
func sealContext(sc scope, name string, v int64) []byte {
	return []byte("ssm\x00" + sc.Account + "\x00" + sc.Region + "\x00" + name + "\x00" + strconv.FormatInt(v, 10))
}

// value returns what GetParameter shows for v: the plaintext, or for a
// SecureString read without decryption the ciphertext in base64, as AWS
// shows the KMS ciphertext blob.
func (s *Service) value(sc scope, name string, v *version, decrypt bool) (string, error) {
	if v.Type != api.ParameterTypeSecureString {
		return v.Value, nil
	}
	if !decrypt {
		return base64.StdEncoding.EncodeToString(v.Sealed), nil
	}
	plain, err := s.sealer.Open(v.Sealed, sealContext(sc, name, v.Version))
	if err != nil {
		return "", fmt.Errorf("ssm: decrypting %s version %d: %w", name, v.Version, err)
	}
	return string(plain), nil
}

// errors shaped like AWS's.

func parameterNotFound(name string) error {
	return api.NewParameterNotFound("Parameter %s not found.", name)
}

// withoutMessage is err, but a ParameterNotFound without its message:
// GetParameter and DeleteParameter answer an unknown name with none
// ("An error occurred (ParameterNotFound) when calling the GetParameter
// operation: "), while ResolveParameter's callers keep the name.
func withoutMessage(err error) error {
	if _, ok := errors.AsType[*api.ParameterNotFound](err); ok {
		return &api.ParameterNotFound{}
	}
	return err
}

func versionNotFound(name string, v int64) error {
	return api.NewParameterVersionNotFound("Systems Manager could not find version %d of %s. Verify the version and try again.", v, name)
}

func validationError(format string, args ...any) error {
	return &awsproto.Error{Code: "ValidationException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// decodeToken is the name a NextToken made by awsproto.PageToken carries:
// the last of the previous page.
func decodeToken(tok *string) (string, error) {
	return awsproto.PageAfter(tok, api.NewInvalidNextToken("The specified token isn't valid."))
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// nonEmpty is s, or nil for "": AWS leaves out the optional strings a
// parameter does not have.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
