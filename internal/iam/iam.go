// Package iam implements AWS Identity and Access Management: users, access
// keys, groups, roles, managed and inline policies, instance profiles. It
// is also where the gateway looks up long-term access keys.
package iam

import (
	"context"
	"time"

	api "overcast/internal/api/iam"
	"overcast/internal/gateway"
	"overcast/internal/store"
)

// Service is the IAM API.
type Service struct {
	api.UnimplementedServer
	db  store.Store
	now func() time.Time
}

var (
	_ api.Server       = (*Service)(nil)
	_ gateway.KeyStore = (*Service)(nil)
)

// New returns IAM over db.
func New(db store.Store, now func() time.Time) *Service {
	return &Service{db: db, now: now}
}

// LookupAccessKey resolves a long-term access key (AKIA...) for the gateway.
func (s *Service) LookupAccessKey(ctx context.Context, accessKeyID string) (gateway.Credentials, error) {
	return gateway.Credentials{}, gateway.ErrUnknownAccessKey
}

// Role is what STS needs to know about a role to assume it.
type Role struct {
	ARN                      string
	RoleID                   string
	Name                     string
	Path                     string
	AccountID                string
	AssumeRolePolicyDocument string // JSON, not URL-encoded
	MaxSessionDuration       int32  // seconds
}

// RoleByARN returns the role an ARN names, or *api.NoSuchEntityException.
func (s *Service) RoleByARN(ctx context.Context, roleARN string) (Role, error) {
	return Role{}, api.NewNoSuchEntityException("The role with name %s cannot be found.", roleARN)
}
