// Package overcast holds the few domain types every service shares:
// accounts, ARNs, and the caller a request runs as. It has no
// dependencies; service packages and the gateway import it.
package overcast

import (
	"context"
	"errors"
	"strings"
	"time"
)

// DefaultAccountID is the account of requests whose access key names none.
const DefaultAccountID = "000000000000"

// DefaultRegion is used when a request names no region (unsigned requests).
const DefaultRegion = "us-east-1"

// AccountFromAccessKey returns the account an access key ID stands for when
// it is itself a 12-digit account ID, the convention local AWS tools share.
func AccountFromAccessKey(accessKeyID string) (string, bool) {
	if IsAccountID(accessKeyID) {
		return accessKeyID, true
	}
	return "", false
}

// IsAccountID reports whether s is 12 decimal digits.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// PrincipalKind says what kind of identity signed a request.
type PrincipalKind string

const (
	PrincipalRoot        PrincipalKind = "root"
	PrincipalUser        PrincipalKind = "user"
	PrincipalAssumedRole PrincipalKind = "assumed-role"
	PrincipalFederated   PrincipalKind = "federated-user"
	PrincipalAnonymous   PrincipalKind = "anonymous"
)

// Caller is who made a request and where: resolved by the gateway from the
// SigV4 credentials, read by services (GetCallerIdentity, ARNs, IAM).
type Caller struct {
	AccountID   string
	Region      string
	AccessKeyID string
	Kind        PrincipalKind
	ARN         string // e.g. arn:aws:iam::000000000000:user/alice
	UserID      string // e.g. AIDA..., or AROA...:session for assumed roles
	// RoleARN is the role behind an assumed-role session.
	RoleARN string
	// SessionToken is set for temporary credentials.
	SessionToken string
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller in ctx; requests that reached a service
// always have one, tests and background work get the default account's root.
func CallerFrom(ctx context.Context) Caller {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		return c
	}
	return RootCaller(DefaultAccountID, DefaultRegion)
}

// RootCaller is the account's root user.
func RootCaller(account, region string) Caller {
	return Caller{AccountID: account, Region: region, Kind: PrincipalRoot,
		ARN: ARN{Partition: "aws", Service: "iam", AccountID: account, Resource: "root"}.String(), UserID: account}
}

// ARN is an Amazon Resource Name: arn:partition:service:region:account:resource.
type ARN struct {
	Partition string
	Service   string
	Region    string
	AccountID string
	Resource  string
}

// NewARN builds an ARN in the aws partition.
func NewARN(service, region, account, resource string) ARN {
	return ARN{Partition: "aws", Service: service, Region: region, AccountID: account, Resource: resource}
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// ParseARN splits an ARN; the resource keeps any further colons.
func ParseARN(s string) (ARN, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" {
		return ARN{}, false
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], AccountID: parts[4], Resource: parts[5]}, true
}

// Scope is where a request's resources live: every account and region has
// its own.
type Scope struct {
	Account, Region string
}

// ScopeOf is the scope of the caller in ctx; requests that name no region
// (unsigned ones) act in DefaultRegion.
func ScopeOf(ctx context.Context) Scope {
	c := CallerFrom(ctx)
	region := c.Region
	if region == "" {
		region = DefaultRegion
	}
	return Scope{Account: c.AccountID, Region: region}
}

// Prefix is the key prefix of the scope's items in a store table:
// "account/region/".
func (s Scope) Prefix() string { return s.Account + "/" + s.Region + "/" }

// Key is the store key of the item name in the scope.
func (s Scope) Key(name string) string { return s.Prefix() + name }

// ARN is the ARN of a resource of service in the scope.
func (s Scope) ARN(service, resource string) string {
	return NewARN(service, s.Region, s.Account, resource).String()
}

// Credentials are what overcast knows about an access key: the secret that
// verifies its signatures and who it acts as. IAM (long-term keys) and STS
// (temporary credentials) hand them to the gateway.
type Credentials struct {
	SecretAccessKey string
	// SessionToken must accompany requests signed with temporary credentials.
	SessionToken string
	// Expires is when temporary credentials stop working; zero for never.
	Expires time.Time
	// Inactive is true for keys an IAM user has deactivated.
	Inactive bool
	Caller   Caller
}

// Role is what STS needs to know about an IAM role to assume it: IAM
// finds it by ARN, STS checks its trust policy and session limit.
type Role struct {
	ARN                      string
	RoleID                   string
	Name                     string
	Path                     string
	AccountID                string
	AssumeRolePolicyDocument string // JSON, not URL-encoded
	MaxSessionDuration       int32  // seconds
}

// ErrUnknownAccessKey is what a key lookup returns for a key it does not know.
var ErrUnknownAccessKey = errors.New("overcast: unknown access key")

// Origin is where an API request came from, as the gateway saw it: what
// IAM conditions (aws:SourceIp, aws:SecureTransport) and CloudTrail
// records (sourceIPAddress, userAgent) say of it.
type Origin struct {
	SourceIP        string // the client's address, without its port
	UserAgent       string
	SecureTransport bool // the request came over TLS
	Time            time.Time
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin in ctx; false for work that no request
// started (controllers, tests calling a service directly).
func OriginFrom(ctx context.Context) (Origin, bool) {
	o, ok := ctx.Value(originKey{}).(Origin)
	return o, ok
}
