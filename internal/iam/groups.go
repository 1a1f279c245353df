package iam

import (
	"cmp"
	"context"
	"slices"
	"strings"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

const maxGroupsPerUser = 10

func groupOut(acct string, g groupRec) *api.Group {
	return &api.Group{Path: new(g.Path), GroupName: new(g.Name), GroupId: new(g.ID),
		Arn: new(groups.arn(acct, g.Path, g.Name)), CreateDate: new(g.Created)}
}

// groupSummary is a group as lists show one.
func groupSummary(_ store.Tx, acct string, g groupRec) (api.Group, error) {
	return *groupOut(acct, g), nil
}

// memberKey is a group membership: <acct>/<group>/<user>, lowercased, so
// that a group's members are a prefix.
func memberKey(acct, group, user string) string {
	return acct + "/" + strings.ToLower(group) + "/" + strings.ToLower(user)
}

func (s *Service) CreateGroup(ctx context.Context, in *api.CreateGroupRequest) (*api.CreateGroupResponse, error) {
	acct := accountOf(ctx)
	g := groupRec{named: groups.newNamed(s, *in.GroupName, in.Path)}
	if err := groups.create(ctx, s, g, nil); err != nil {
		return nil, err
	}
	return &api.CreateGroupResponse{Group: groupOut(acct, g)}, nil
}

// GetGroup returns a group and a page of its members.
func (s *Service) GetGroup(ctx context.Context, in *api.GetGroupRequest) (*api.GetGroupResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	out := &api.GetGroupResponse{Users: api.UserListType{}}
	var next string
	err = s.Store.View(ctx, func(tx store.Tx) error {
		g, _, err := groups.load(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		out.Group = groupOut(acct, g)
		next, err = pg.scan(tx, groupMembersTable, acct, strings.ToLower(g.Name)+"/", func(it store.Item) (bool, error) {
			u, _, err := users.load(tx, acct, string(it.Value))
			if err != nil {
				return false, err
			}
			out.Users = append(out.Users, *userOut(acct, u, false))
			return true, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	out.Users = out.Users[:min(len(out.Users), pg.max)]
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}

// UpdateGroup renames a group or changes its path; memberships and
// attachments follow the new name.
func (s *Service) UpdateGroup(ctx context.Context, in *api.UpdateGroupRequest) error {
	acct := accountOf(ctx)
	return groups.modify(ctx, s, *in.GroupName, func(tx store.Tx, g *groupRec) error {
		oldName := g.Name
		g.Name = orDefault(in.NewGroupName, g.Name)
		g.Path = orDefault(in.NewPath, g.Path)
		if strings.EqualFold(g.Name, oldName) {
			return nil
		}
		if err := groups.ensureFree(tx, acct, g.Name); err != nil {
			return err
		}
		oldKey, newKey := strings.ToLower(oldName), strings.ToLower(g.Name)
		var members []string
		err := tx.Scan(groupMembersTable, store.ScanOptions{Prefix: acct + "/" + oldKey + "/"}, func(it store.Item) error {
			members = append(members, string(it.Value))
			return nil
		})
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.Delete(groupMembersTable, memberKey(acct, oldKey, m), store.AnyVersion); err != nil {
				return err
			}
			if _, err := tx.Put(groupMembersTable, memberKey(acct, newKey, m), []byte(m), store.AnyVersion); err != nil {
				return err
			}
			u, uv, err := users.load(tx, acct, m)
			if err != nil {
				return err
			}
			next := u
			next.Groups = slices.Clone(u.Groups)
			for i, name := range next.Groups {
				if name == oldKey {
					next.Groups[i] = newKey
				}
			}
			if err := users.table.save(tx, acct, u, uv, next); err != nil {
				return err
			}
		}
		return renameAttachments(tx, acct, groups.resource, oldName, g.Name, g.Attached, "")
	})
}

func (s *Service) DeleteGroup(ctx context.Context, in *api.DeleteGroupRequest) error {
	acct := accountOf(ctx)
	return groups.remove(ctx, s, *in.GroupName, func(tx store.Tx, g groupRec) error {
		members, err := tx.Count(groupMembersTable, acct+"/"+strings.ToLower(g.Name)+"/")
		if err != nil {
			return err
		}
		return cmp.Or(mustFirstIf(members > 0, "remove users from group"), policiesInUse(&g))
	})
}

func (s *Service) AddUserToGroup(ctx context.Context, in *api.AddUserToGroupRequest) error {
	return changeMembership(ctx, s, groups, *in.GroupName, users, *in.UserName, func(tx store.Tx, acct string, g *groupRec, u *userRec) error {
		key := strings.ToLower(g.Name)
		switch {
		case slices.Contains(u.Groups, key):
			return nil
		case len(u.Groups) >= maxGroupsPerUser:
			return quotaExceeded("GroupsPerUser", maxGroupsPerUser)
		}
		u.Groups = append(slices.Clone(u.Groups), key)
		_, err := tx.Put(groupMembersTable, memberKey(acct, g.Name, u.Name), []byte(u.Name), store.AnyVersion)
		return err
	})
}

func (s *Service) RemoveUserFromGroup(ctx context.Context, in *api.RemoveUserFromGroupRequest) error {
	return changeMembership(ctx, s, groups, *in.GroupName, users, *in.UserName, func(tx store.Tx, acct string, g *groupRec, u *userRec) error {
		key := strings.ToLower(g.Name)
		if !slices.Contains(u.Groups, key) {
			return api.NewNoSuchEntityException("User %s is not in group %s.", u.Name, g.Name)
		}
		u.Groups = slices.DeleteFunc(slices.Clone(u.Groups), func(n string) bool { return n == key })
		return tx.Delete(groupMembersTable, memberKey(acct, g.Name, u.Name), store.AnyVersion)
	})
}
