package iam

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

// maxServiceCredsPerService is IAM's quota
// ServiceSpecificCredentialsPerUserPerService.
const maxServiceCredsPerService = 2

const serviceCredIDPrefix = "ACCA"

// CodeCommitService is the service name of CodeCommit's Git credentials.
const CodeCommitService = "codecommit.amazonaws.com"

// serviceCredServices are the services IAM issues credentials for.
var serviceCredServices = []string{CodeCommitService, "cassandra.amazonaws.com", "bedrock.amazonaws.com"}

type serviceCredRec struct {
	ownedRec
	Service      string    `json:"service"`
	ServiceUser  string    `json:"serviceUser"`
	PasswordHash []byte    `json:"passwordHash"` // SHA-256: the password is random and long
	Expires      time.Time `json:"expires,omitzero"`
}

var serviceCreds = userCredKind[serviceCredRec, *serviceCredRec]{
	table: serviceCredTable,
	ids:   func(u *userRec) *[]string { return &u.ServiceCreds },
	notFound: func(id string) error {
		return api.NewNoSuchEntityException("No such credential %s exists", id)
	},
}

func checkCredService(name string) error {
	if !slices.Contains(serviceCredServices, name) {
		return api.NewServiceNotSupportedException("No such service %s is supported for Service-Specific Credentials", name)
	}
	return nil
}

func (s *Service) newServicePassword() string { return s.IDs.String(secretLetter, 43) + "=" }

func hashServicePassword(p string) []byte {
	sum := sha256.Sum256([]byte(p))
	return sum[:]
}

// CreateServiceSpecificCredential issues a user name and password for one
// service: CodeCommit's are Git credentials for HTTPS.
func (s *Service) CreateServiceSpecificCredential(ctx context.Context, in *api.CreateServiceSpecificCredentialRequest) (*api.CreateServiceSpecificCredentialResponse, error) {
	if err := checkCredService(*in.ServiceName); err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	now := s.clock()
	password := s.newServicePassword()
	c := serviceCredRec{ownedRec: ownedRec{ID: serviceCredIDPrefix + s.IDs.String(upperAlnum, 17), Account: acct,
		UserName: *in.UserName, Status: api.StatusTypeActive, Created: now}, Service: *in.ServiceName,
		PasswordHash: hashServicePassword(password)}
	if in.CredentialAgeDays != nil {
		c.Expires = now.AddDate(0, 0, int(*in.CredentialAgeDays))
	}
	err := serviceCreds.create(ctx, s, c, func(others []serviceCredRec) error {
		n := 0
		for _, o := range others {
			if o.Service == c.Service {
				n++
			}
		}
		if n >= maxServiceCredsPerService {
			return quotaExceeded("ServiceSpecificCredentialsPerUserPerService", maxServiceCredsPerService)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c, _, err = serviceCreds.lookup(ctx, s, c.ID)
	if err != nil {
		return nil, err
	}
	return &api.CreateServiceSpecificCredentialResponse{ServiceSpecificCredential: serviceCredOut(c, password)}, nil
}

// serviceUserName is the user name of a user's credentials: the user and
// the account, so that the name alone finds them.
func serviceUserName(c serviceCredRec) string { return c.UserName + "-at-" + c.Account }

func serviceCredOut(c serviceCredRec, password string) *api.ServiceSpecificCredential {
	out := &api.ServiceSpecificCredential{CreateDate: new(c.Created), ServiceName: new(c.Service),
		ServiceSpecificCredentialId: new(c.ID), UserName: new(c.UserName), Status: new(c.Status)}
	if c.Service == "bedrock.amazonaws.com" {
		out.ServiceCredentialAlias, out.ServiceCredentialSecret = new(serviceUserName(c)), new(password)
	} else {
		out.ServiceUserName, out.ServicePassword = new(serviceUserName(c)), new(password)
	}
	if !c.Expires.IsZero() {
		out.ExpirationDate = new(c.Expires)
	}
	return out
}

func (s *Service) ListServiceSpecificCredentials(ctx context.Context, in *api.ListServiceSpecificCredentialsRequest) (*api.ListServiceSpecificCredentialsResponse, error) {
	if in.ServiceName != nil {
		if err := checkCredService(*in.ServiceName); err != nil {
			return nil, err
		}
	}
	user, err := s.credentialUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	all, err := serviceCreds.list(ctx, s, user)
	if err != nil {
		return nil, err
	}
	out := &api.ListServiceSpecificCredentialsResponse{ServiceSpecificCredentials: api.ServiceSpecificCredentialsListType{}}
	for _, c := range all {
		if in.ServiceName != nil && *in.ServiceName != c.Service {
			continue
		}
		m := api.ServiceSpecificCredentialMetadata{UserName: new(c.UserName), Status: new(c.Status), CreateDate: new(c.Created),
			ServiceSpecificCredentialId: new(c.ID), ServiceName: new(c.Service)}
		if c.Service == "bedrock.amazonaws.com" {
			m.ServiceCredentialAlias = new(serviceUserName(c))
		} else {
			m.ServiceUserName = new(serviceUserName(c))
		}
		if !c.Expires.IsZero() {
			m.ExpirationDate = new(c.Expires)
		}
		out.ServiceSpecificCredentials = append(out.ServiceSpecificCredentials, m)
	}
	out.IsTruncated = new(false)
	return out, nil
}

// ResetServiceSpecificCredential gives a credential a new password.
func (s *Service) ResetServiceSpecificCredential(ctx context.Context, in *api.ResetServiceSpecificCredentialRequest) (*api.ResetServiceSpecificCredentialResponse, error) {
	user, err := s.credentialUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	password := s.newServicePassword()
	c, err := serviceCreds.change(ctx, s, user, *in.ServiceSpecificCredentialId, func(c *serviceCredRec) error {
		c.PasswordHash = hashServicePassword(password)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ResetServiceSpecificCredentialResponse{ServiceSpecificCredential: serviceCredOut(c, password)}, nil
}

func (s *Service) UpdateServiceSpecificCredential(ctx context.Context, in *api.UpdateServiceSpecificCredentialRequest) error {
	user, err := s.credentialUser(ctx, in.UserName)
	if err != nil {
		return err
	}
	return serviceCreds.setStatus(ctx, s, user, *in.ServiceSpecificCredentialId, *in.Status)
}

func (s *Service) DeleteServiceSpecificCredential(ctx context.Context, in *api.DeleteServiceSpecificCredentialRequest) error {
	user, err := s.credentialUser(ctx, in.UserName)
	if err != nil {
		return err
	}
	return serviceCreds.remove(ctx, s, user, *in.ServiceSpecificCredentialId)
}

// ErrBadServiceCredential is AuthenticateServiceCredential's answer for a
// user name and password it does not accept.
var ErrBadServiceCredential = errors.New("iam: service-specific credential not accepted")

// AuthenticateServiceCredential returns the IAM user whose active, unexpired
// credential for service has serviceUser ("<user>-at-<account>") and
// password.
func (s *Service) AuthenticateServiceCredential(ctx context.Context, service, serviceUser, password string) (overcast.Caller, error) {
	i := strings.LastIndex(serviceUser, "-at-")
	if i < 0 {
		return overcast.Caller{}, ErrBadServiceCredential
	}
	acct, name := serviceUser[i+len("-at-"):], serviceUser[:i]
	var creds []serviceCredRec
	var u userRec
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		if u, _, err = users.load(tx, acct, name); err != nil {
			return err
		}
		creds, err = serviceCreds.all(tx, acct, u.ServiceCreds)
		return err
	})
	var noUser *api.NoSuchEntityException
	if errors.As(err, &noUser) {
		return overcast.Caller{}, ErrBadServiceCredential
	}
	if err != nil {
		return overcast.Caller{}, err
	}
	hash := hashServicePassword(password)
	now := s.Now()
	for _, c := range creds {
		if c.Service == service && c.Status == api.StatusTypeActive && (c.Expires.IsZero() || now.Before(c.Expires)) &&
			subtle.ConstantTimeCompare(c.PasswordHash, hash) == 1 {
			return callerOfUser(acct, u), nil
		}
	}
	return overcast.Caller{}, ErrBadServiceCredential
}
