package iam

import (
	"context"
	"errors"
	"slices"
	"strings"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

const maxRolesPerInstanceProfile = 1

func loadInstanceProfile(tx store.Tx, acct, name string) (instanceProfileRec, int64, error) {
	var p instanceProfileRec
	version, err := instanceProfilesTable.get(tx, acct, name, &p)
	if errors.Is(err, store.ErrNotFound) {
		return p, 0, api.NewNoSuchEntityException("Instance Profile %s cannot be found.", name)
	}
	return p, version, err
}

// instanceProfileOut describes a profile with its roles, read in tx.
func instanceProfileOut(tx store.Tx, acct string, p instanceProfileRec, withTags bool) (*api.InstanceProfile, error) {
	out := &api.InstanceProfile{Path: new(p.Path), InstanceProfileName: new(p.Name), InstanceProfileId: new(p.ID),
		Arn: new(instanceProfileARN(acct, p.Path, p.Name)), CreateDate: new(p.Created), Roles: api.RoleListType{}}
	for _, name := range p.Roles {
		r, _, err := loadRole(tx, acct, name)
		if err != nil {
			return nil, err
		}
		out.Roles = append(out.Roles, *roleOut(acct, r, false))
	}
	if withTags {
		out.Tags = apiTags(p.Tags)
	}
	return out, nil
}

func (s *Service) CreateInstanceProfile(ctx context.Context, in *api.CreateInstanceProfileRequest) (*api.CreateInstanceProfileResponse, error) {
	if err := checkTagKeys(in.Tags); err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	p := instanceProfileRec{Name: *in.InstanceProfileName, Path: orDefault(in.Path, "/"), ID: s.newID(instanceProfileIDPrefix),
		Created: s.clock(), Tags: toTags(in.Tags)}
	var out *api.InstanceProfile
	err := s.update(ctx, func(tx store.Tx) error {
		if ok, err := instanceProfilesTable.exists(tx, acct, p.Name); err != nil || ok {
			return errOr(err, api.NewEntityAlreadyExistsException("Instance Profile %s already exists.", p.Name))
		}
		if err := instanceProfilesTable.create(tx, acct, p); err != nil {
			return err
		}
		var err error
		out, err = instanceProfileOut(tx, acct, p, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateInstanceProfileResponse{InstanceProfile: out}, nil
}

func (s *Service) GetInstanceProfile(ctx context.Context, in *api.GetInstanceProfileRequest) (*api.GetInstanceProfileResponse, error) {
	acct := accountOf(ctx)
	var out *api.InstanceProfile
	err := s.db.View(ctx, func(tx store.Tx) error {
		p, _, err := loadInstanceProfile(tx, acct, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		out, err = instanceProfileOut(tx, acct, p, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.GetInstanceProfileResponse{InstanceProfile: out}, nil
}

func (s *Service) DeleteInstanceProfile(ctx context.Context, in *api.DeleteInstanceProfileRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		p, version, err := loadInstanceProfile(tx, acct, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return api.NewDeleteConflictException("Cannot delete entity, must remove roles from instance profile first.")
		}
		return instanceProfilesTable.remove(tx, acct, p, version)
	})
}

func (s *Service) ListInstanceProfiles(ctx context.Context, in *api.ListInstanceProfilesRequest) (*api.ListInstanceProfilesResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	out := &api.ListInstanceProfilesResponse{InstanceProfiles: api.InstanceProfileListType{}}
	var next string
	err = s.db.View(ctx, func(tx store.Tx) error {
		profiles, n, err := listEntities[instanceProfileRec](tx, instanceProfilesTable, acct, orDefault(in.PathPrefix, "/"), pg, nil)
		if err != nil {
			return err
		}
		next = n
		for _, p := range profiles {
			ip, err := instanceProfileOut(tx, acct, p, false)
			if err != nil {
				return err
			}
			out.InstanceProfiles = append(out.InstanceProfiles, *ip)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}

func (s *Service) AddRoleToInstanceProfile(ctx context.Context, in *api.AddRoleToInstanceProfileRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		p, pv, err := loadInstanceProfile(tx, acct, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		r, rv, err := loadRole(tx, acct, *in.RoleName)
		if err != nil {
			return err
		}
		if len(p.Roles) >= maxRolesPerInstanceProfile {
			return api.NewLimitExceededException("Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", maxRolesPerInstanceProfile)
		}
		np, nr := p, r
		np.Roles = append(slices.Clone(p.Roles), strings.ToLower(r.Name))
		nr.InstanceProfiles = append(slices.Clone(r.InstanceProfiles), strings.ToLower(p.Name))
		if err := instanceProfilesTable.save(tx, acct, p, pv, np); err != nil {
			return err
		}
		return rolesTable.save(tx, acct, r, rv, nr)
	})
}

func (s *Service) RemoveRoleFromInstanceProfile(ctx context.Context, in *api.RemoveRoleFromInstanceProfileRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		p, pv, err := loadInstanceProfile(tx, acct, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		r, rv, err := loadRole(tx, acct, *in.RoleName)
		if err != nil {
			return err
		}
		roleKey, profileKey := strings.ToLower(r.Name), strings.ToLower(p.Name)
		if !slices.Contains(p.Roles, roleKey) {
			return api.NewNoSuchEntityException("The role with name %s cannot be found in instance profile %s.", r.Name, p.Name)
		}
		np, nr := p, r
		np.Roles = slices.DeleteFunc(slices.Clone(p.Roles), func(n string) bool { return n == roleKey })
		nr.InstanceProfiles = slices.DeleteFunc(slices.Clone(r.InstanceProfiles), func(n string) bool { return n == profileKey })
		if err := instanceProfilesTable.save(tx, acct, p, pv, np); err != nil {
			return err
		}
		return rolesTable.save(tx, acct, r, rv, nr)
	})
}

func (s *Service) ListInstanceProfilesForRole(ctx context.Context, in *api.ListInstanceProfilesForRoleRequest) (*api.ListInstanceProfilesForRoleResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	out := &api.ListInstanceProfilesForRoleResponse{InstanceProfiles: api.InstanceProfileListType{}}
	var next string
	err = s.db.View(ctx, func(tx store.Tx) error {
		r, _, err := loadRole(tx, acct, *in.RoleName)
		if err != nil {
			return err
		}
		var names []string
		names, next = pageSlice(r.InstanceProfiles, func(n string) string { return n }, pg)
		for _, name := range names {
			p, _, err := loadInstanceProfile(tx, acct, name)
			if err != nil {
				return err
			}
			ip, err := instanceProfileOut(tx, acct, p, false)
			if err != nil {
				return err
			}
			out.InstanceProfiles = append(out.InstanceProfiles, *ip)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}

func (s *Service) modifyInstanceProfile(ctx context.Context, name string, change func(*instanceProfileRec) error) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		p, version, err := loadInstanceProfile(tx, acct, name)
		if err != nil {
			return err
		}
		np := p
		if err := change(&np); err != nil {
			return err
		}
		return instanceProfilesTable.save(tx, acct, p, version, np)
	})
}

func (s *Service) TagInstanceProfile(ctx context.Context, in *api.TagInstanceProfileRequest) error {
	if err := checkTagKeys(in.Tags); err != nil {
		return err
	}
	return s.modifyInstanceProfile(ctx, *in.InstanceProfileName, func(p *instanceProfileRec) (err error) {
		p.Tags, err = mergeTags(p.Tags, in.Tags)
		return err
	})
}

func (s *Service) UntagInstanceProfile(ctx context.Context, in *api.UntagInstanceProfileRequest) error {
	return s.modifyInstanceProfile(ctx, *in.InstanceProfileName, func(p *instanceProfileRec) error {
		p.Tags = removeTags(p.Tags, in.TagKeys)
		return nil
	})
}

func (s *Service) ListInstanceProfileTags(ctx context.Context, in *api.ListInstanceProfileTagsRequest) (*api.ListInstanceProfileTagsResponse, error) {
	var p instanceProfileRec
	err := s.db.View(ctx, func(tx store.Tx) (err error) {
		p, _, err = loadInstanceProfile(tx, accountOf(ctx), *in.InstanceProfileName)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListInstanceProfileTagsResponse{}
	out.Tags, out.IsTruncated, out.Marker, err = tagsPage(p.Tags, in.Marker, in.MaxItems)
	return out, err
}
