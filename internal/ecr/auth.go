package ecr

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/ecr"
	"overcast/internal/ecr/registry"
	"overcast/internal/secretbox"
)

// TokenLifetime is how long a GetAuthorizationToken token is valid, as on
// AWS.
const TokenLifetime = 12 * time.Hour

// downloadLifetime bounds a GetDownloadUrlForLayer URL, like the
// presigned S3 URL AWS returns.
const downloadLifetime = time.Hour

// keySize is the size of the HMAC key; the key file is kept by
// service.Env.Key.
const keySize = secretbox.KeySize

// tokenSigner makes and checks stateless tokens: fields joined by '|',
// then an HMAC-SHA256 of them, both base64url.
type tokenSigner struct {
	key []byte
}

func newTokenSigner(key []byte) *tokenSigner { return &tokenSigner{key: key} }

func (t *tokenSigner) mac(payload string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (t *tokenSigner) sign(fields ...string) string {
	payload := strings.Join(fields, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(t.mac(payload))
}

// verify returns the fields of a token this signer made.
func (t *tokenSigner) verify(token string) ([]string, bool) {
	p, m, ok := strings.Cut(token, ".")
	if !ok {
		return nil, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, t.mac(string(payload))) {
		return nil, false
	}
	return strings.Split(string(payload), "|"), true
}

// registryToken is the password docker sends: who, where, until when.
// The caller's role and access key follow, for authorizing it by its IAM
// policies, and its unique ID, for CloudTrail's records of its pulls.
func (s *Service) registryToken(account, region string, c overcast.Caller, expires time.Time) string {
	return s.tokens.sign("r1", account, region, strconv.FormatInt(expires.Unix(), 10), c.ARN, c.RoleARN, c.AccessKeyID, c.UserID)
}

// Authenticate implements registry.Backend: Basic auth with user AWS and a
// registry token that has not expired.
func (s *Service) Authenticate(ctx context.Context, user, password string) (registry.Identity, bool) {
	if user != "AWS" {
		return registry.Identity{}, false
	}
	f, ok := s.tokens.verify(password)
	if !ok || len(f) < 5 || len(f) > 8 || len(f) == 6 || f[0] != "r1" {
		return registry.Identity{}, false
	}
	exp, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || !s.Now().Before(time.Unix(exp, 0)) {
		return registry.Identity{}, false
	}
	id := registry.Identity{Account: f[1], Region: f[2], Principal: f[4]}
	if len(f) >= 7 {
		id.RoleARN, id.AccessKeyID = f[5], f[6]
	}
	if len(f) == 8 {
		id.UserID = f[7]
	}
	return id, true
}

// RegistryCredentials returns docker credentials for an account's registry
// in a region, for overcast's own pulls (ECS tasks, Beanstalk, CodeBuild):
// user AWS and a fresh token of the account's root.
func (s *Service) RegistryCredentials(account, region string) (username, password string, expires time.Time) {
	return s.RegistryCredentialsAs(overcast.RootCaller(account, region), account, region)
}

// RegistryCredentialsAs is RegistryCredentials for work done as caller
// (an ECS task's execution role): under --enforce-iam its pulls are
// authorized by caller's policies, as AWS authorizes them.
func (s *Service) RegistryCredentialsAs(caller overcast.Caller, account, region string) (username, password string, expires time.Time) {
	expires = s.Now().Add(TokenLifetime)
	return "AWS", s.registryToken(account, region, caller, expires), expires
}

// RegistryHost is host:port of the registry, the host of every repository
// URI.
func (s *Service) RegistryHost() string { return s.host }

// GetAuthorizationToken returns a token for the caller's registry. The
// registryIds parameter is accepted (and deprecated on AWS too): the token
// speaks for the caller whatever it names, and other accounts' repositories
// admit it through their policies.
func (s *Service) GetAuthorizationToken(ctx context.Context, in *api.GetAuthorizationTokenRequest) (*api.GetAuthorizationTokenResponse, error) {
	c := overcast.CallerFrom(ctx)
	reg := callerRegistry(ctx, nil)
	expires := s.Now().Add(TokenLifetime).UTC().Truncate(time.Second)
	token := s.registryToken(reg.account, reg.region, c, expires)
	data := api.AuthorizationData{
		AuthorizationToken: new(base64.StdEncoding.EncodeToString([]byte("AWS:" + token))),
		ExpiresAt:          new(expires),
		ProxyEndpoint:      new("http://" + s.host),
	}
	out := &api.GetAuthorizationTokenResponse{AuthorizationData: api.AuthorizationDataList{data}}
	for range max(len(in.RegistryIds)-1, 0) {
		out.AuthorizationData = append(out.AuthorizationData, data)
	}
	return out, nil
}

// downloadToken authorizes one blob of one repository for a short while.
func (s *Service) downloadToken(r registry.Repo, d string) string {
	exp := s.Now().Add(downloadLifetime).Unix()
	return s.tokens.sign("d1", r.Account, r.Region, r.Name, d, strconv.FormatInt(exp, 10))
}

func (s *Service) verifyDownload(token string) (registry.Repo, registry.Digest, bool) {
	f, ok := s.tokens.verify(token)
	if !ok || len(f) != 6 || f[0] != "d1" {
		return registry.Repo{}, "", false
	}
	exp, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil || !s.Now().Before(time.Unix(exp, 0)) {
		return registry.Repo{}, "", false
	}
	return registry.Repo{Account: f[1], Region: f[2], Name: f[3]}, registry.Digest(f[4]), true
}
