package iam

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

func userOut(acct string, u userRec, full bool) *api.User {
	out := &api.User{Path: new(u.Path), UserName: new(u.Name), UserId: new(u.ID),
		Arn: new(users.arn(acct, u.Path, u.Name)), CreateDate: new(u.Created)}
	if full {
		out.Tags = apiTags(u.Tags)
		out.PermissionsBoundary = boundaryOut(u.Boundary)
	}
	return out
}

// userSummary is a user as lists show one.
func userSummary(_ store.Tx, acct string, u userRec) (api.User, error) {
	return *userOut(acct, u, false), nil
}

func boundaryOut(arn string) *api.AttachedPermissionsBoundary {
	if arn == "" {
		return nil
	}
	return &api.AttachedPermissionsBoundary{PermissionsBoundaryArn: new(arn),
		PermissionsBoundaryType: new(api.PermissionsBoundaryAttachmentTypePermissionsBoundaryPolicy)}
}

// callerUser names the IAM user who signed the request, for operations
// whose UserName defaults to the caller. root is true for the account's
// root user, which has no name; other principals are refused as AWS does.
func callerUser(ctx context.Context) (name string, root bool, err error) {
	c := overcast.CallerFrom(ctx)
	switch c.Kind {
	case overcast.PrincipalRoot:
		return "", true, nil
	case overcast.PrincipalUser:
		return c.ARN[strings.LastIndexByte(c.ARN, '/')+1:], false, nil
	}
	return "", false, validationError("Must specify userName when calling with non-User credentials")
}

// CreateUser creates an IAM user.
func (s *Service) CreateUser(ctx context.Context, in *api.CreateUserRequest) (*api.CreateUserResponse, error) {
	if err := checkTagKeys(in.Tags); err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	u := userRec{named: users.newNamed(s, *in.UserName, in.Path), Tags: toTags(in.Tags),
		Boundary: orDefault(in.PermissionsBoundary, "")}
	if err := createWithBoundary(ctx, s, userHolder, u); err != nil {
		return nil, err
	}
	return &api.CreateUserResponse{User: userOut(acct, u, true)}, nil
}

// GetUser returns a user, by default the caller. For the account's root
// AWS answers with the account itself: its ID as UserId, its root ARN, and
// no name or path.
func (s *Service) GetUser(ctx context.Context, in *api.GetUserRequest) (*api.GetUserResponse, error) {
	acct := accountOf(ctx)
	name := orDefault(in.UserName, "")
	if name == "" {
		n, root, err := callerUser(ctx)
		if err != nil {
			return nil, err
		}
		if root {
			created, err := s.accountCreated(ctx, acct)
			if err != nil {
				return nil, err
			}
			return &api.GetUserResponse{User: &api.User{UserId: new(acct),
				Arn: new(overcast.NewARN("iam", "", acct, "root").String()), CreateDate: &created}}, nil
		}
		name = n
	}
	u, err := users.read(ctx, s, name)
	if err != nil {
		return nil, err
	}
	return &api.GetUserResponse{User: userOut(acct, u, true)}, nil
}

// accountCreated is when IAM first saw the account: the root user's
// CreateDate.
func (s *Service) accountCreated(ctx context.Context, acct string) (time.Time, error) {
	var a accountRec
	err := s.update(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, accountsTable, acct, &a)
		if errors.Is(err, store.ErrNotFound) {
			a = accountRec{Created: s.clock()}
			_, err = store.PutJSON(tx, accountsTable, acct, a, 0)
		}
		return err
	})
	return a.Created, err
}

// UpdateUser renames a user or moves it to another path. Everything that
// refers to the user by name (group memberships, policy attachments, its
// access keys, SSH keys and service-specific
// credentials) follows it.
func (s *Service) UpdateUser(ctx context.Context, in *api.UpdateUserRequest) error {
	acct := accountOf(ctx)
	var keys []string
	err := users.modify(ctx, s, *in.UserName, func(tx store.Tx, u *userRec) error {
		oldName := u.Name
		u.Name = orDefault(in.NewUserName, u.Name)
		u.Path = orDefault(in.NewPath, u.Path)
		if !strings.EqualFold(u.Name, oldName) {
			if err := users.ensureFree(tx, acct, u.Name); err != nil {
				return err
			}
			for _, g := range u.Groups {
				if err := tx.Delete(groupMembersTable, memberKey(acct, g, oldName), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if _, err := tx.Put(groupMembersTable, memberKey(acct, g, u.Name), []byte(u.Name), store.AnyVersion); err != nil {
					return err
				}
			}
			if err := renameAttachments(tx, acct, users.resource, oldName, u.Name, u.Attached, u.Boundary); err != nil {
				return err
			}
		}
		if err := sshKeys.rename(tx, u); err != nil {
			return err
		}
		if err := serviceCreds.rename(tx, u); err != nil {
			return err
		}
		keys = u.AccessKeys
		for _, id := range u.AccessKeys {
			var k accessKeyRec
			kv, err := store.GetJSON(tx, accessKeysTable, id, &k)
			if err != nil {
				return err
			}
			k.UserName, k.UserPath = u.Name, u.Path
			if _, err := store.PutJSON(tx, accessKeysTable, id, k, kv); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.forget(ctx, keys...)
	}
	return err
}

// DeleteUser deletes a user that nothing refers to any more, as AWS
// insists: keys, policies, groups and login profile must go first.
func (s *Service) DeleteUser(ctx context.Context, in *api.DeleteUserRequest) error {
	acct := accountOf(ctx)
	return users.remove(ctx, s, *in.UserName, func(tx store.Tx, u userRec) error {
		err := cmp.Or(mustFirstIf(u.Login != nil, "delete login profile"),
			mustFirstIf(len(u.AccessKeys) > 0, "delete access keys"),
			mustFirstIf(len(u.SSHKeys) > 0, "delete SSH public keys"),
			mustFirstIf(len(u.ServiceCreds) > 0, "delete service-specific credentials"),
			policiesInUse(&u),
			mustFirstIf(len(u.Groups) > 0, "remove user from all groups"))
		if err != nil {
			return err
		}
		return releaseAttachments(tx, acct, users.resource, u.Name, u.Attached, u.Boundary)
	})
}

// Login profiles: overcast has no console, so only the profile's
// existence is kept (DeleteUser must refuse while there is one), never
// the password.

func (s *Service) CreateLoginProfile(ctx context.Context, in *api.CreateLoginProfileRequest) (*api.CreateLoginProfileResponse, error) {
	name, err := s.userOrCaller(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	var lp loginProfile
	err = users.modify(ctx, s, name, func(_ store.Tx, u *userRec) error {
		if u.Login != nil {
			return api.NewEntityAlreadyExistsException("Login Profile for user %s already exists.", u.Name)
		}
		lp = loginProfile{Created: s.clock(), ResetRequired: in.PasswordResetRequired != nil && *in.PasswordResetRequired}
		u.Login, name = &lp, u.Name
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateLoginProfileResponse{LoginProfile: loginOut(name, lp)}, nil
}

func loginOut(name string, lp loginProfile) *api.LoginProfile {
	return &api.LoginProfile{UserName: new(name), CreateDate: new(lp.Created), PasswordResetRequired: new(lp.ResetRequired)}
}

// userOrCaller is the user an operation names, or the calling user.
func (s *Service) userOrCaller(ctx context.Context, name *string) (string, error) {
	if name != nil && *name != "" {
		return *name, nil
	}
	n, root, err := callerUser(ctx)
	if err == nil && root {
		err = validationError("Must specify userName when calling with non-User credentials")
	}
	return n, err
}

func (s *Service) GetLoginProfile(ctx context.Context, in *api.GetLoginProfileRequest) (*api.GetLoginProfileResponse, error) {
	name, err := s.userOrCaller(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	u, err := users.read(ctx, s, name)
	if err != nil {
		return nil, err
	}
	if u.Login == nil {
		return nil, api.NewNoSuchEntityException("Login Profile for User %s cannot be found.", u.Name)
	}
	return &api.GetLoginProfileResponse{LoginProfile: loginOut(u.Name, *u.Login)}, nil
}

func (s *Service) UpdateLoginProfile(ctx context.Context, in *api.UpdateLoginProfileRequest) error {
	return users.modify(ctx, s, *in.UserName, func(_ store.Tx, u *userRec) error {
		if u.Login == nil {
			return api.NewNoSuchEntityException("Login Profile for User %s cannot be found.", u.Name)
		}
		if in.PasswordResetRequired != nil {
			u.Login.ResetRequired = *in.PasswordResetRequired
		}
		return nil
	})
}

func (s *Service) DeleteLoginProfile(ctx context.Context, in *api.DeleteLoginProfileRequest) error {
	name, err := s.userOrCaller(ctx, in.UserName)
	if err != nil {
		return err
	}
	return users.modify(ctx, s, name, func(_ store.Tx, u *userRec) error {
		if u.Login == nil {
			return api.NewNoSuchEntityException("Login Profile for User %s cannot be found.", u.Name)
		}
		u.Login = nil
		return nil
	})
}
