package iam

import (
	"context"
	"errors"
	"slices"
	"strings"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

const maxGroupsPerUser = 10

func groupOut(acct string, g groupRec) *api.Group {
	return &api.Group{Path: new(g.Path), GroupName: new(g.Name), GroupId: new(g.ID),
		Arn: new(groupARN(acct, g.Path, g.Name)), CreateDate: new(g.Created)}
}

func loadGroup(tx store.Tx, acct, name string) (groupRec, int64, error) {
	var g groupRec
	version, err := groupsTable.get(tx, acct, name, &g)
	if errors.Is(err, store.ErrNotFound) {
		return g, 0, groupHolder.notFound(name)
	}
	return g, version, err
}

// memberKey is a group membership: <acct>/<group>/<user>, lowercased, so
// that a group's members are a prefix.
func memberKey(acct, group, user string) string {
	return acct + "/" + strings.ToLower(group) + "/" + strings.ToLower(user)
}

func (s *Service) CreateGroup(ctx context.Context, in *api.CreateGroupRequest) (*api.CreateGroupResponse, error) {
	acct := accountOf(ctx)
	g := groupRec{Name: *in.GroupName, Path: orDefault(in.Path, "/"), ID: s.newID(groupIDPrefix), Created: s.clock()}
	err := s.update(ctx, func(tx store.Tx) error {
		if ok, err := groupsTable.exists(tx, acct, g.Name); err != nil || ok {
			return errOr(err, api.NewEntityAlreadyExistsException("Group with name %s already exists.", g.Name))
		}
		return groupsTable.create(tx, acct, g)
	})
	if err != nil {
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
	err = s.db.View(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		out.Group = groupOut(acct, g)
		next, err = pg.scan(tx, groupMembersTable, acct, strings.ToLower(g.Name)+"/", func(it store.Item) (bool, error) {
			u, _, err := loadUser(tx, acct, string(it.Value))
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

func (s *Service) ListGroups(ctx context.Context, in *api.ListGroupsRequest) (*api.ListGroupsResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	var groups []groupRec
	var next string
	err = s.db.View(ctx, func(tx store.Tx) (err error) {
		groups, next, err = listEntities[groupRec](tx, groupsTable, acct, orDefault(in.PathPrefix, "/"), pg, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListGroupsResponse{Groups: api.GroupListType{}}
	for _, g := range groups {
		out.Groups = append(out.Groups, *groupOut(acct, g))
	}
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}

// UpdateGroup renames a group or changes its path; memberships and
// attachments follow the new name.
func (s *Service) UpdateGroup(ctx context.Context, in *api.UpdateGroupRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		old, version, err := loadGroup(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		g := old
		g.Name = orDefault(in.NewGroupName, old.Name)
		g.Path = orDefault(in.NewPath, old.Path)
		if strings.EqualFold(g.Name, old.Name) {
			return groupsTable.save(tx, acct, old, version, g)
		}
		if ok, err := groupsTable.exists(tx, acct, g.Name); err != nil || ok {
			return errOr(err, api.NewEntityAlreadyExistsException("Group with name %s already exists.", g.Name))
		}
		if err := groupsTable.save(tx, acct, old, version, g); err != nil {
			return err
		}
		oldKey, newKey := strings.ToLower(old.Name), strings.ToLower(g.Name)
		var members []string
		err = tx.Scan(groupMembersTable, store.ScanOptions{Prefix: acct + "/" + oldKey + "/"}, func(it store.Item) error {
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
			u, uv, err := loadUser(tx, acct, m)
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
			if err := usersTable.save(tx, acct, u, uv, next); err != nil {
				return err
			}
		}
		return renameAttachments(tx, acct, "group", old.Name, g.Name, g.Attached, "")
	})
}

func (s *Service) DeleteGroup(ctx context.Context, in *api.DeleteGroupRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		g, version, err := loadGroup(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		members, err := tx.Count(groupMembersTable, acct+"/"+strings.ToLower(g.Name)+"/")
		if err != nil {
			return err
		}
		switch {
		case members > 0:
			return api.NewDeleteConflictException("Cannot delete entity, must remove users from group first.")
		case len(g.Attached) > 0:
			return api.NewDeleteConflictException("Cannot delete entity, must detach all policies first.")
		case len(g.Inline) > 0:
			return api.NewDeleteConflictException("Cannot delete entity, must delete policies first.")
		}
		return groupsTable.remove(tx, acct, g, version)
	})
}

func (s *Service) AddUserToGroup(ctx context.Context, in *api.AddUserToGroupRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		u, version, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		key := strings.ToLower(g.Name)
		if slices.Contains(u.Groups, key) {
			return nil
		}
		if len(u.Groups) >= maxGroupsPerUser {
			return api.NewLimitExceededException("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		next := u
		next.Groups = append(slices.Clone(u.Groups), key)
		if err := usersTable.save(tx, acct, u, version, next); err != nil {
			return err
		}
		_, err = tx.Put(groupMembersTable, memberKey(acct, g.Name, u.Name), []byte(u.Name), store.AnyVersion)
		return err
	})
}

func (s *Service) RemoveUserFromGroup(ctx context.Context, in *api.RemoveUserFromGroupRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		u, version, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		key := strings.ToLower(g.Name)
		if !slices.Contains(u.Groups, key) {
			return api.NewNoSuchEntityException("User %s is not in group %s.", u.Name, g.Name)
		}
		next := u
		next.Groups = slices.DeleteFunc(slices.Clone(u.Groups), func(n string) bool { return n == key })
		if err := usersTable.save(tx, acct, u, version, next); err != nil {
			return err
		}
		return tx.Delete(groupMembersTable, memberKey(acct, g.Name, u.Name), store.AnyVersion)
	})
}

func (s *Service) ListGroupsForUser(ctx context.Context, in *api.ListGroupsForUserRequest) (*api.ListGroupsForUserResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	var groups []groupRec
	err = s.db.View(ctx, func(tx store.Tx) error {
		u, _, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		for _, name := range u.Groups {
			g, _, err := loadGroup(tx, acct, name)
			if err != nil {
				return err
			}
			groups = append(groups, g)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next := pageSlice(groups, func(g groupRec) string { return strings.ToLower(g.Name) }, pg)
	out := &api.ListGroupsForUserResponse{Groups: api.GroupListType{}}
	for _, g := range page {
		out.Groups = append(out.Groups, *groupOut(acct, g))
	}
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}
