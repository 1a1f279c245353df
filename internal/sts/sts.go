// Package sts implements AWS Security Token Service: who am I, and
// temporary credentials (assumed roles, session and federation tokens) that
// the gateway then accepts like any access key.
package sts

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"overcast"
	api "overcast/internal/api/sts"
	"overcast/internal/awsproto"
	"overcast/internal/oidc"
	"overcast/internal/policy"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Directory is what STS needs from IAM: roles to assume and long-term keys.
type Directory interface {
	RoleByARN(ctx context.Context, roleARN string) (Role, error)
	LookupAccessKey(ctx context.Context, accessKeyID string) (overcast.Credentials, error)
}

// Role is what STS needs to know about a role to assume it; the type is
// overcast's, which IAM's lookup returns.
type Role = overcast.Role

// Service is the STS API and the key store of temporary credentials.
type Service struct {
	api.UnimplementedServer
	service.Base
	dir Directory
	// strict refuses AssumeRole when the role's trust policy does not
	// allow the caller. Outside strict mode the refusal is logged and the
	// role assumed anyway: identity enforcement is opt-in, as --strict is.
	strict bool

	mu    sync.RWMutex
	cache map[string]session // by access key ID; sessions never change, they only expire

	providers Providers
	keys      *oidc.Keys
}

var _ api.Server = (*Service)(nil)

// Options are what STS needs beyond its Env and Directory.
type Options struct {
	// Providers are IAM's identity providers, for the federated
	// AssumeRoleWith* operations; nil knows none.
	Providers Providers
	// IdPClient fetches OpenID Connect issuers' keys; its TLS settings
	// say which certificate authorities are trusted. nil is Go's default
	// client, which trusts the system's.
	IdPClient *http.Client
}

// New returns STS, which finds roles and long-term keys in dir.
func New(env *service.Env, dir Directory, opts Options) *Service {
	return &Service{Base: env.Base(), dir: dir,
		strict: env.Strict, cache: map[string]session{}, providers: opts.Providers,
		keys: &oidc.Keys{Client: cmp.Or(opts.IdPClient, http.DefaultClient), Now: env.Clock.Now}}
}

// API is STS's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: &table} }

const sessionsTable = "sts.sessions"

// session is a set of temporary credentials and who they act as.
type session struct {
	SecretAccessKey string          `json:"secret"`
	SessionToken    string          `json:"token"`
	Expires         time.Time       `json:"expires"`
	Caller          overcast.Caller `json:"caller"`
	// Policies are the session policies the credentials were issued
	// with, which cap what they may do.
	Policies sessionPolicies `json:"policies,omitzero"`
}

// maxCachedSessions bounds the cache; beyond it the cache starts over and
// refills from the store on demand.
const maxCachedSessions = 100_000

// LookupAccessKey resolves temporary credentials (ASIA...) for the gateway.
func (s *Service) LookupAccessKey(ctx context.Context, accessKeyID string) (overcast.Credentials, error) {
	if !strings.HasPrefix(accessKeyID, "ASIA") {
		return overcast.Credentials{}, overcast.ErrUnknownAccessKey
	}
	s.mu.RLock()
	sess, ok := s.cache[accessKeyID]
	s.mu.RUnlock()
	if !ok {
		err := s.Store.View(ctx, func(tx store.Tx) error {
			_, err := store.GetJSON(tx, sessionsTable, accessKeyID, &sess)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return overcast.Credentials{}, overcast.ErrUnknownAccessKey
		}
		if err != nil {
			return overcast.Credentials{}, err
		}
		s.remember(accessKeyID, sess)
	}
	return overcast.Credentials{SecretAccessKey: sess.SecretAccessKey, SessionToken: sess.SessionToken,
		Expires: sess.Expires, Caller: sess.Caller}, nil
}

func (s *Service) remember(id string, sess session) {
	s.mu.Lock()
	if len(s.cache) >= maxCachedSessions {
		s.cache = map[string]session{}
	}
	s.cache[id] = sess
	s.mu.Unlock()
}

// issue stores new temporary credentials for caller.
func (s *Service) issue(ctx context.Context, caller overcast.Caller, d time.Duration) (*api.Credentials, error) {
	return s.issueCapped(ctx, caller, d, sessionPolicies{})
}

// issueCapped stores new temporary credentials for caller, capped by
// session policies.
func (s *Service) issueCapped(ctx context.Context, caller overcast.Caller, d time.Duration, pols sessionPolicies) (*api.Credentials, error) {
	now := s.Now().UTC().Truncate(time.Second)
	id := "ASIA" + s.IDs.String(idAlphabet, 16)
	sess := session{
		SecretAccessKey: s.randomSecret(),
		SessionToken:    s.randomToken(),
		Expires:         now.Add(d),
		Caller:          caller,
		Policies:        pols,
	}
	sess.Caller.AccessKeyID = id
	sess.Caller.SessionToken = sess.SessionToken
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, sessionsTable, id, sess, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.remember(id, sess)
	return &api.Credentials{AccessKeyId: &id, SecretAccessKey: new(sess.SecretAccessKey),
		SessionToken: new(sess.SessionToken), Expiration: new(sess.Expires)}, nil
}

// GetCallerIdentity says who signed the request.
func (s *Service) GetCallerIdentity(ctx context.Context, in *api.GetCallerIdentityRequest) (*api.GetCallerIdentityResponse, error) {
	c := overcast.CallerFrom(ctx)
	return &api.GetCallerIdentityResponse{UserId: new(c.UserID), Account: new(c.AccountID), Arn: new(c.ARN)}, nil
}

// GetAccessKeyInfo names the account an access key belongs to.
func (s *Service) GetAccessKeyInfo(ctx context.Context, in *api.GetAccessKeyInfoRequest) (*api.GetAccessKeyInfoResponse, error) {
	id := *in.AccessKeyId
	for _, ks := range []interface {
		LookupAccessKey(ctx context.Context, id string) (overcast.Credentials, error)
	}{s, s.dir} {
		c, err := ks.LookupAccessKey(ctx, id)
		if err == nil {
			return &api.GetAccessKeyInfoResponse{Account: new(c.Caller.AccountID)}, nil
		}
		if !errors.Is(err, overcast.ErrUnknownAccessKey) {
			return nil, err
		}
	}
	account, ok := overcast.AccountFromAccessKey(id)
	if !ok {
		account = overcast.DefaultAccountID
	}
	return &api.GetAccessKeyInfoResponse{Account: &account}, nil
}

// AssumeRole issues credentials that act as a role.
func (s *Service) AssumeRole(ctx context.Context, in *api.AssumeRoleRequest) (*api.AssumeRoleResponse, error) {
	caller := overcast.CallerFrom(ctx)
	name := *in.RoleSessionName
	if err := checkPolicy(in.Policy); err != nil {
		return nil, err
	}
	role, err := s.dir.RoleByARN(ctx, *in.RoleArn)
	if err != nil {
		if _, ok := awsproto.AsAPIError(err); ok {
			return nil, notAuthorized(caller, "sts:AssumeRole", *in.RoleArn)
		}
		return nil, err
	}
	d, err := roleSessionLength(role, in.DurationSeconds, caller.Kind == overcast.PrincipalAssumedRole)
	if err != nil {
		return nil, err
	}
	externalID := ""
	if in.ExternalId != nil {
		externalID = *in.ExternalId
	}
	if !trusts(role.ARN, role.AssumeRolePolicyDocument, caller, externalID) {
		if s.strict {
			return nil, notAuthorized(caller, "sts:AssumeRole", role.ARN)
		}
		s.Logger.Warn("trust policy does not allow the caller; assuming the role anyway outside --strict",
			"role", role.ARN, "caller", caller.ARN)
	}
	creds, assumedARN, assumedID, err := s.assumeCapped(ctx, role, name, d, policiesOf(in.Policy, in.PolicyArns))
	if err != nil {
		return nil, err
	}
	out := &api.AssumeRoleResponse{Credentials: creds,
		AssumedRoleUser: &api.AssumedRoleUser{AssumedRoleId: &assumedID, Arn: &assumedARN},
		SourceIdentity:  in.SourceIdentity}
	if size := packedSize(in.Policy, len(in.PolicyArns), len(in.Tags)); size > 0 {
		out.PackedPolicySize = &size
	}
	return out, nil
}

// roleSessionLength is how long a session of role lasts: as requested, an
// hour by default, within the role's MaxSessionDuration, and within an hour
// when a role session assumes it (role chaining).
func roleSessionLength(role Role, requested *int32, chained bool) (time.Duration, error) {
	maxDuration := role.MaxSessionDuration
	if maxDuration == 0 {
		maxDuration = 3600
	}
	d := int32(3600)
	if requested != nil {
		d = *requested
	}
	// AWS says which limit was passed, in a sentence of its own.
	if chained && d > 3600 {
		return 0, &awsproto.Error{Code: "ValidationError", Status: http.StatusBadRequest,
			Message: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."}
	}
	if d > maxDuration {
		return 0, &awsproto.Error{Code: "ValidationError", Status: http.StatusBadRequest,
			Message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}
	}
	return time.Duration(d) * time.Second, nil
}

// assume issues credentials for a session of role named name.
func (s *Service) assume(ctx context.Context, role Role, name string, d time.Duration) (creds *api.Credentials, assumedARN, assumedID string, err error) {
	return s.assumeCapped(ctx, role, name, d, sessionPolicies{})
}

// assumeCapped is assume for a session capped by session policies.
func (s *Service) assumeCapped(ctx context.Context, role Role, name string, d time.Duration, pols sessionPolicies) (creds *api.Credentials, assumedARN, assumedID string, err error) {
	assumedARN = overcast.NewARN("sts", "", role.AccountID, "assumed-role/"+role.Name+"/"+name).String()
	assumedID = role.RoleID + ":" + name
	creds, err = s.issueCapped(ctx, overcast.Caller{AccountID: role.AccountID, Kind: overcast.PrincipalAssumedRole,
		ARN: assumedARN, UserID: assumedID, RoleARN: role.ARN}, d, pols)
	return creds, assumedARN, assumedID, err
}

// AssumeRoleAsService issues credentials for a session of a role assumed
// by an AWS service principal (ecs-tasks.amazonaws.com for a task role),
// as the service does on a user's behalf: no API call, no caller, but the
// role's trust policy must name the service (in --strict; otherwise a
// refusal is logged and the role assumed anyway, as AssumeRole does).
func (s *Service) AssumeRoleAsService(ctx context.Context, servicePrincipal, roleARN, sessionName string, d time.Duration) (overcast.Credentials, error) {
	role, err := s.dir.RoleByARN(ctx, roleARN)
	if err != nil {
		return overcast.Credentials{}, err
	}
	if !trustsService(role.ARN, role.AssumeRolePolicyDocument, servicePrincipal) {
		if s.strict {
			return overcast.Credentials{}, &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden,
				Message: fmt.Sprintf("%s is not authorized to perform: sts:AssumeRole on resource: %s", servicePrincipal, role.ARN)}
		}
		s.Logger.Warn("trust policy does not allow the service; assuming the role anyway outside --strict",
			"role", role.ARN, "service", servicePrincipal)
	}
	creds, _, _, err := s.assume(ctx, role, sessionName, d)
	if err != nil {
		return overcast.Credentials{}, err
	}
	return s.LookupAccessKey(ctx, *creds.AccessKeyId)
}

// GetSessionToken issues credentials that act as the calling user.
func (s *Service) GetSessionToken(ctx context.Context, in *api.GetSessionTokenRequest) (*api.GetSessionTokenResponse, error) {
	caller := overcast.CallerFrom(ctx)
	if caller.SessionToken != "" {
		return nil, &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden,
			Message: "Cannot call GetSessionToken with session credentials"}
	}
	d := sessionDuration(caller, in.DurationSeconds)
	caller.AccessKeyID, caller.SessionToken = "", ""
	creds, err := s.issue(ctx, caller, time.Duration(d)*time.Second)
	if err != nil {
		return nil, err
	}
	return &api.GetSessionTokenResponse{Credentials: creds}, nil
}

// GetFederationToken issues credentials for a federated user of the
// calling user's account.
func (s *Service) GetFederationToken(ctx context.Context, in *api.GetFederationTokenRequest) (*api.GetFederationTokenResponse, error) {
	caller := overcast.CallerFrom(ctx)
	if caller.SessionToken != "" {
		return nil, &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden,
			Message: "Cannot call GetFederationToken with session credentials"}
	}
	name := *in.Name
	if err := checkPolicy(in.Policy); err != nil {
		return nil, err
	}
	d := sessionDuration(caller, in.DurationSeconds)
	arn := overcast.NewARN("sts", "", caller.AccountID, "federated-user/"+name).String()
	userID := caller.AccountID + ":" + name
	pols := policiesOf(in.Policy, in.PolicyArns)
	if caller.Kind == overcast.PrincipalUser {
		pols.Parent = caller.ARN
	}
	creds, err := s.issueCapped(ctx, overcast.Caller{AccountID: caller.AccountID, Kind: overcast.PrincipalFederated, ARN: arn, UserID: userID},
		time.Duration(d)*time.Second, pols)
	if err != nil {
		return nil, err
	}
	out := &api.GetFederationTokenResponse{Credentials: creds, FederatedUser: &api.FederatedUser{FederatedUserId: &userID, Arn: &arn}}
	if size := packedSize(in.Policy, len(in.PolicyArns), len(in.Tags)); size > 0 {
		out.PackedPolicySize = &size
	}
	return out, nil
}

// packedSize approximates AWS's packed session-policy size, as a percentage
// of the allowed maximum.
func packedSize(policy *string, arns, tags int) int32 {
	n := arns*100 + tags*30
	if policy != nil {
		n += len(*policy)
	}
	if n == 0 {
		return 0
	}
	return int32(min(100, 1+n*100/2048))
}

// checkPolicy validates an inline session policy.
func checkPolicy(p *string) error {
	if p == nil {
		return nil
	}
	if len(*p) > 2048 {
		return api.NewPackedPolicyTooLargeException("Packed size of consumed session policies exceeds the limit.")
	}
	_, err := policy.Validate(*p, policy.Identity)
	var pe *policy.Error
	switch {
	case errors.Is(err, policy.ErrInvalidJSON):
		return api.NewMalformedPolicyDocumentException("The policy is not in the valid JSON format.")
	case errors.As(err, &pe):
		return api.NewMalformedPolicyDocumentException("%s", pe.Message)
	}
	return err
}

func notAuthorized(c overcast.Caller, action, resource string) error {
	return &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden,
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", c.ARN, action, resource)}
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// randomSecret is 40 characters, like AWS's secret keys.
func (s *Service) randomSecret() string { return base64.StdEncoding.EncodeToString(s.IDs.Bytes(30)) }

// randomToken is an opaque session token, about as long as AWS's.
func (s *Service) randomToken() string {
	return "IQoJb3JpZ2luX2VjE" + base64.StdEncoding.EncodeToString(s.IDs.Bytes(192))
}

// sessionDuration is how long GetSessionToken's and GetFederationToken's
// credentials last: as requested (the model bounds it to 15 minutes to 36
// hours), 12 hours by default. The root user's last an hour at most, a
// longer request being cut to one hour rather than refused, as their API
// references say.
func sessionDuration(c overcast.Caller, requested *int32) int32 {
	d := int32(43200)
	if requested != nil {
		d = *requested
	}
	if c.Kind == overcast.PrincipalRoot && d > 3600 {
		d = 3600
	}
	return d
}
