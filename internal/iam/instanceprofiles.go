package iam

import (
	"context"
	"slices"
	"strings"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

const maxRolesPerInstanceProfile = 1

// instanceProfileOut describes a profile with its roles, read in tx;
// lists leave out its tags.
func instanceProfileOut(tx store.Tx, acct string, p instanceProfileRec, withTags bool) (*api.InstanceProfile, error) {
	rs, err := roles.loadAll(tx, acct, p.Roles)
	if err != nil {
		return nil, err
	}
	out := &api.InstanceProfile{Path: new(p.Path), InstanceProfileName: new(p.Name), InstanceProfileId: new(p.ID),
		Arn: new(instanceProfiles.arn(acct, p.Path, p.Name)), CreateDate: new(p.Created), Roles: api.RoleListType{}}
	for _, r := range rs {
		out.Roles = append(out.Roles, *roleOut(acct, r, false))
	}
	if withTags {
		out.Tags = apiTags(p.Tags)
	}
	return out, nil
}

// instanceProfileDetail is a profile as Create and Get answer.
func instanceProfileDetail(tx store.Tx, acct string, p instanceProfileRec) (*api.InstanceProfile, error) {
	return instanceProfileOut(tx, acct, p, true)
}

// instanceProfileSummary is a profile as lists show one.
func instanceProfileSummary(tx store.Tx, acct string, p instanceProfileRec) (api.InstanceProfile, error) {
	out, err := instanceProfileOut(tx, acct, p, false)
	if err != nil {
		return api.InstanceProfile{}, err
	}
	return *out, nil
}

func (s *Service) CreateInstanceProfile(ctx context.Context, in *api.CreateInstanceProfileRequest) (*api.CreateInstanceProfileResponse, error) {
	if err := checkTagKeys(in.Tags); err != nil {
		return nil, err
	}
	p := instanceProfileRec{named: instanceProfiles.newNamed(s, *in.InstanceProfileName, in.Path), Tags: toTags(in.Tags)}
	out, err := createDescribed(ctx, s, instanceProfiles, p, instanceProfileDetail)
	if err != nil {
		return nil, err
	}
	return &api.CreateInstanceProfileResponse{InstanceProfile: out}, nil
}

func (s *Service) GetInstanceProfile(ctx context.Context, in *api.GetInstanceProfileRequest) (*api.GetInstanceProfileResponse, error) {
	out, err := readDescribed(ctx, s, instanceProfiles, *in.InstanceProfileName, instanceProfileDetail)
	if err != nil {
		return nil, err
	}
	return &api.GetInstanceProfileResponse{InstanceProfile: out}, nil
}

func (s *Service) DeleteInstanceProfile(ctx context.Context, in *api.DeleteInstanceProfileRequest) error {
	return instanceProfiles.remove(ctx, s, *in.InstanceProfileName, func(_ store.Tx, p instanceProfileRec) error {
		return mustFirstIf(len(p.Roles) > 0, "remove roles from instance profile")
	})
}

func (s *Service) AddRoleToInstanceProfile(ctx context.Context, in *api.AddRoleToInstanceProfileRequest) error {
	return changeMembership(ctx, s, instanceProfiles, *in.InstanceProfileName, roles, *in.RoleName,
		func(_ store.Tx, _ string, p *instanceProfileRec, r *roleRec) error {
			if len(p.Roles) >= maxRolesPerInstanceProfile {
				return quotaExceeded("InstanceSessionsPerInstanceProfile", maxRolesPerInstanceProfile)
			}
			p.Roles = append(slices.Clone(p.Roles), strings.ToLower(r.Name))
			r.InstanceProfiles = append(slices.Clone(r.InstanceProfiles), strings.ToLower(p.Name))
			return nil
		})
}

func (s *Service) RemoveRoleFromInstanceProfile(ctx context.Context, in *api.RemoveRoleFromInstanceProfileRequest) error {
	return changeMembership(ctx, s, instanceProfiles, *in.InstanceProfileName, roles, *in.RoleName,
		func(_ store.Tx, _ string, p *instanceProfileRec, r *roleRec) error {
			roleKey, profileKey := strings.ToLower(r.Name), strings.ToLower(p.Name)
			if !slices.Contains(p.Roles, roleKey) {
				return api.NewNoSuchEntityException("The role with name %s cannot be found in instance profile %s.", r.Name, p.Name)
			}
			p.Roles = slices.DeleteFunc(slices.Clone(p.Roles), func(n string) bool { return n == roleKey })
			r.InstanceProfiles = slices.DeleteFunc(slices.Clone(r.InstanceProfiles), func(n string) bool { return n == profileKey })
			return nil
		})
}
