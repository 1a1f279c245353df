package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

const maxPolicyVersions = 5

// managedPolicy is a managed policy found by ARN: AWS's, shared by every
// account and read-only, or one of the account's own.
type managedPolicy struct {
	rec        policyRec
	arn        string
	aws        bool
	attachable bool
	version    int64 // store version of the account's own
}

// findPolicy resolves a policy ARN as seen from acct; ok is false when no
// such policy exists there.
func (s *Service) findPolicy(tx store.Tx, acct, arn string) (mp managedPolicy, ok bool, err error) {
	a, valid := overcast.ParseARN(arn)
	if !valid || a.Service != "iam" || a.Region != "" || !strings.HasPrefix(a.Resource, "policy/") {
		return mp, false, nil
	}
	if a.AccountID == awsAccount {
		mp, ok := s.managed.policy(arn)
		return mp, ok, nil
	}
	if a.AccountID != acct {
		return mp, false, nil
	}
	rest := strings.TrimPrefix(a.Resource, "policy")
	i := strings.LastIndexByte(rest, '/')
	path, name := rest[:i+1], rest[i+1:]
	if name == "" {
		return mp, false, nil
	}
	var rec policyRec
	version, err := policies.table.get(tx, acct, name, &rec)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Path != path) {
		return mp, false, nil
	}
	if err != nil {
		return mp, false, err
	}
	return ownPolicy(acct, rec, version), true, nil
}

// ownPolicy is one of acct's own policies, read at version.
func ownPolicy(acct string, rec policyRec, version int64) managedPolicy {
	return managedPolicy{rec: rec, arn: policies.arn(acct, rec.Path, rec.Name), attachable: true, version: version}
}

// loadPolicy is findPolicy for operations on the policy itself.
func (s *Service) loadPolicy(tx store.Tx, acct, arn string) (managedPolicy, error) {
	mp, ok, err := s.findPolicy(tx, acct, arn)
	if err == nil && !ok {
		err = policies.notFound(arn)
	}
	return mp, err
}

// readPolicy is loadPolicy in a transaction of its own, in the caller's account.
func (s *Service) readPolicy(ctx context.Context, arn string) (mp managedPolicy, err error) {
	err = s.Store.View(ctx, func(tx store.Tx) error {
		mp, err = s.loadPolicy(tx, accountOf(ctx), arn)
		return err
	})
	return mp, err
}

// loadOwnPolicy is loadPolicy for changes, which AWS managed policies refuse.
func (s *Service) loadOwnPolicy(ctx context.Context, tx store.Tx, op, arn string) (managedPolicy, error) {
	mp, err := s.loadPolicy(tx, accountOf(ctx), arn)
	if err == nil && mp.aws {
		err = awsproto.Errorf(403, "AccessDenied", "User: %s is not authorized to perform: iam:%s on resource: policy %s",
			overcast.CallerFrom(ctx).ARN, op, arn)
	}
	return mp, err
}

// modifyPolicy runs change on one of the caller's own policies and saves
// its record, in one transaction; op names the operation for AccessDenied.
func (s *Service) modifyPolicy(ctx context.Context, op, arn string, change func(mp *managedPolicy) error) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		mp, err := s.loadOwnPolicy(ctx, tx, op, arn)
		if err != nil {
			return err
		}
		old := mp.rec
		if err := change(&mp); err != nil {
			return err
		}
		return policies.table.save(tx, acct, old, mp.version, mp.rec)
	})
}

// useAsBoundary records that an entity uses a policy as its permissions
// boundary, once the policy is known to exist; arn "" is no boundary.
func (s *Service) useAsBoundary(tx store.Tx, acct, arn, kind, name string) error {
	if arn == "" {
		return nil
	}
	mp, ok, err := s.findPolicy(tx, acct, arn)
	if err != nil {
		return err
	}
	if !ok || !mp.attachable {
		return api.NewNoSuchEntityException("Scope ARN: %s does not exist or is not attachable.", arn)
	}
	return addAttachment(tx, acct, arn, usageBoundary, kind, name)
}

// policyOut describes a policy; full adds what only GetPolicy returns.
func policyOut(tx store.Tx, acct string, mp managedPolicy, full bool) (*api.Policy, error) {
	attached, err := attachmentCount(tx, acct, mp.arn, usagePermissions)
	if err != nil {
		return nil, err
	}
	boundaries, err := attachmentCount(tx, acct, mp.arn, usageBoundary)
	if err != nil {
		return nil, err
	}
	p := mp.rec
	out := &api.Policy{PolicyName: new(p.Name), PolicyId: new(p.ID), Arn: new(mp.arn), Path: new(p.Path),
		DefaultVersionId: new(p.DefaultVersion), AttachmentCount: new(int32(attached)),
		PermissionsBoundaryUsageCount: new(int32(boundaries)), IsAttachable: new(mp.attachable),
		CreateDate: new(p.Created), UpdateDate: new(p.Updated)}
	if full {
		out.Description = p.Description
		out.Tags = apiTags(p.Tags)
	}
	return out, nil
}

func (s *Service) CreatePolicy(ctx context.Context, in *api.CreatePolicyRequest) (*api.CreatePolicyResponse, error) {
	if err := checkTagKeys(in.Tags); err != nil {
		return nil, err
	}
	if err := managedPolicyRules.check(*in.PolicyDocument); err != nil {
		return nil, err
	}
	p := policyRec{named: policies.newNamed(s, *in.PolicyName, in.Path), Description: in.Description,
		DefaultVersion: "v1", NextVersion: 2, Tags: toTags(in.Tags)}
	p.Updated = p.Created
	p.Versions = []policyVersion{{ID: "v1", Document: *in.PolicyDocument, Created: p.Created}}
	out, err := createDescribed(ctx, s, policies, p, func(tx store.Tx, acct string, p policyRec) (*api.Policy, error) {
		return policyOut(tx, acct, ownPolicy(acct, p, 0), true)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreatePolicyResponse{Policy: out}, nil
}

func (s *Service) GetPolicy(ctx context.Context, in *api.GetPolicyRequest) (*api.GetPolicyResponse, error) {
	acct := accountOf(ctx)
	var out *api.Policy
	err := s.Store.View(ctx, func(tx store.Tx) error {
		mp, err := s.loadPolicy(tx, acct, *in.PolicyArn)
		if err != nil {
			return err
		}
		out, err = policyOut(tx, acct, mp, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.GetPolicyResponse{Policy: out}, nil
}

// ListPolicies lists AWS managed policies (in path order), then the
// account's (in path order, a prefix scan). A marker starts with "A" or
// "L" to say which of the two it points into.
func (s *Service) ListPolicies(ctx context.Context, in *api.ListPoliciesRequest) (*api.ListPoliciesResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	scope := orDefault(in.Scope, api.PolicyScopeTypeAll)
	prefix := orDefault(in.PathPrefix, "/")
	onlyAttached := in.OnlyAttached != nil && *in.OnlyAttached
	usage := orDefault(in.PolicyUsageFilter, "")
	acct := accountOf(ctx)

	out := &api.ListPoliciesResponse{Policies: api.PolicyListType{}}
	more, last := false, ""
	err = s.Store.View(ctx, func(tx store.Tx) error {
		// consider adds mp to the page if it passes the filters; it
		// reports false once the page is full and another policy passed.
		consider := func(mp managedPolicy, key string) (bool, error) {
			p, err := policyOut(tx, acct, mp, false)
			if err != nil {
				return false, err
			}
			if onlyAttached {
				n := *p.AttachmentCount + *p.PermissionsBoundaryUsageCount
				switch usage {
				case api.PolicyUsageTypePermissionsPolicy:
					n = *p.AttachmentCount
				case api.PolicyUsageTypePermissionsBoundary:
					n = *p.PermissionsBoundaryUsageCount
				}
				if n == 0 {
					return true, nil
				}
			}
			if len(out.Policies) == pg.max {
				more = true
				return false, nil
			}
			out.Policies = append(out.Policies, *p)
			last = key
			return true, nil
		}
		if scope != api.PolicyScopeTypeLocal && pg.after < "L" {
			for _, arn := range s.managed.sorted {
				mp, _ := s.managed.policy(arn)
				key := "A" + mp.rec.Path + strings.ToLower(mp.rec.Name)
				if key <= pg.after || !strings.HasPrefix(mp.rec.Path, prefix) {
					continue
				}
				goOn, err := consider(mp, key)
				if err != nil || !goOn {
					return err
				}
			}
		}
		if scope == api.PolicyScopeTypeAWS {
			return nil
		}
		opt := store.ScanOptions{Prefix: acct + "/" + prefix}
		if after, ok := strings.CutPrefix(pg.after, "L"); ok {
			opt.After = acct + "/" + after
		}
		return tx.Scan(policies.table.byPath, opt, func(it store.Item) error {
			var rec policyRec
			version, err := store.GetJSON(tx, policies.table.name, acct+"/"+string(it.Value), &rec)
			if err != nil {
				return err
			}
			goOn, err := consider(ownPolicy(acct, rec, version), "L"+strings.TrimPrefix(it.Key, acct+"/"))
			if err == nil && !goOn {
				err = store.ErrStop
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if more {
		out.IsTruncated, out.Marker = truncated(encodeMarker(last))
	} else {
		out.IsTruncated, out.Marker = truncated("")
	}
	return out, nil
}

func (s *Service) DeletePolicy(ctx context.Context, in *api.DeletePolicyRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		mp, err := s.loadOwnPolicy(ctx, tx, "DeletePolicy", *in.PolicyArn)
		if err != nil {
			return err
		}
		uses, err := tx.Count(attachmentsTable, attachmentPrefix(acct, mp.arn))
		if err != nil {
			return err
		}
		if uses > 0 {
			return api.NewDeleteConflictException("Cannot delete a policy attached to entities.")
		}
		if len(mp.rec.Versions) > 1 {
			return api.NewDeleteConflictException("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		return policies.table.remove(tx, acct, mp.rec, mp.version)
	})
}

func versionOut(pv policyVersion, isDefault, withDocument bool) *api.PolicyVersion {
	out := &api.PolicyVersion{VersionId: new(pv.ID), IsDefaultVersion: new(isDefault), CreateDate: new(pv.Created)}
	if withDocument {
		out.Document = new(encodeDocument(pv.Document))
	}
	return out
}

func (s *Service) CreatePolicyVersion(ctx context.Context, in *api.CreatePolicyVersionRequest) (*api.CreatePolicyVersionResponse, error) {
	if err := managedPolicyRules.check(*in.PolicyDocument); err != nil {
		return nil, err
	}
	setDefault := in.SetAsDefault != nil && *in.SetAsDefault
	var pv policyVersion
	err := s.modifyPolicy(ctx, "CreatePolicyVersion", *in.PolicyArn, func(mp *managedPolicy) error {
		rec := &mp.rec
		if len(rec.Versions) >= maxPolicyVersions {
			return api.NewLimitExceededException("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		now := s.clock()
		pv = policyVersion{ID: "v" + strconv.Itoa(rec.NextVersion), Document: *in.PolicyDocument, Created: now}
		rec.NextVersion++
		rec.Versions = append(slices.Clone(rec.Versions), pv)
		if setDefault {
			rec.DefaultVersion, rec.Updated = pv.ID, now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.CreatePolicyVersionResponse{PolicyVersion: versionOut(pv, setDefault, false)}, nil
}

func findVersion(mp managedPolicy, id string) (policyVersion, error) {
	for _, pv := range mp.rec.Versions {
		if pv.ID == id {
			return pv, nil
		}
	}
	return policyVersion{}, api.NewNoSuchEntityException("Policy %s version %s does not exist or is not attachable.", mp.arn, id)
}

func (s *Service) GetPolicyVersion(ctx context.Context, in *api.GetPolicyVersionRequest) (*api.GetPolicyVersionResponse, error) {
	mp, err := s.readPolicy(ctx, *in.PolicyArn)
	if err != nil {
		return nil, err
	}
	pv, err := findVersion(mp, *in.VersionId)
	if err != nil {
		return nil, err
	}
	return &api.GetPolicyVersionResponse{PolicyVersion: versionOut(pv, pv.ID == mp.rec.DefaultVersion, true)}, nil
}

// ListPolicyVersions lists versions newest first, as AWS does.
func (s *Service) ListPolicyVersions(ctx context.Context, in *api.ListPolicyVersionsRequest) (*api.ListPolicyVersionsResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	mp, err := s.readPolicy(ctx, *in.PolicyArn)
	if err != nil {
		return nil, err
	}
	newestFirst := func(pv policyVersion) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(pv.ID, "v"))
		return fmt.Sprintf("%010d", 1<<30-n)
	}
	page, next := pageSlice(mp.rec.Versions, newestFirst, pg)
	out := &api.ListPolicyVersionsResponse{Versions: api.PolicyDocumentVersionListType{}}
	for _, pv := range page {
		out.Versions = append(out.Versions, *versionOut(pv, pv.ID == mp.rec.DefaultVersion, false))
	}
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}

func (s *Service) DeletePolicyVersion(ctx context.Context, in *api.DeletePolicyVersionRequest) error {
	return s.modifyPolicy(ctx, "DeletePolicyVersion", *in.PolicyArn, func(mp *managedPolicy) error {
		if _, err := findVersion(*mp, *in.VersionId); err != nil {
			return err
		}
		if *in.VersionId == mp.rec.DefaultVersion {
			return api.NewDeleteConflictException("Cannot delete the default version of a policy.")
		}
		mp.rec.Versions = slices.DeleteFunc(slices.Clone(mp.rec.Versions), func(pv policyVersion) bool { return pv.ID == *in.VersionId })
		return nil
	})
}

func (s *Service) SetDefaultPolicyVersion(ctx context.Context, in *api.SetDefaultPolicyVersionRequest) error {
	return s.modifyPolicy(ctx, "SetDefaultPolicyVersion", *in.PolicyArn, func(mp *managedPolicy) error {
		if _, err := findVersion(*mp, *in.VersionId); err != nil {
			return err
		}
		mp.rec.DefaultVersion, mp.rec.Updated = *in.VersionId, s.clock()
		return nil
	})
}

// ListEntitiesForPolicy pages over the policy's attachment index.
func (s *Service) ListEntitiesForPolicy(ctx context.Context, in *api.ListEntitiesForPolicyRequest) (*api.ListEntitiesForPolicyResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	entityFilter := strings.ToLower(orDefault(in.EntityFilter, ""))
	usage := map[string]string{api.PolicyUsageTypePermissionsPolicy: usagePermissions,
		api.PolicyUsageTypePermissionsBoundary: usageBoundary}[orDefault(in.PolicyUsageFilter, "")]
	prefix := orDefault(in.PathPrefix, "/")
	out := &api.ListEntitiesForPolicyResponse{PolicyGroups: api.PolicyGroupListType{},
		PolicyUsers: api.PolicyUserListType{}, PolicyRoles: api.PolicyRoleListType{}}
	taken := 0
	var next string
	err = s.Store.View(ctx, func(tx store.Tx) error {
		mp, err := s.loadPolicy(tx, acct, *in.PolicyArn)
		if err != nil {
			return err
		}
		next, err = pg.scan(tx, attachmentsTable, acct, mp.arn+"|", func(it store.Item) (bool, error) {
			parts := strings.Split(it.Key[len(attachmentPrefix(acct, mp.arn)):], "|")
			if len(parts) != 3 || (usage != "" && parts[0] != usage) || (entityFilter != "" && parts[1] != entityFilter) {
				return false, nil
			}
			load, ok := holderLoaders[parts[1]]
			if !ok {
				return false, nil
			}
			h, err := load(tx, acct, string(it.Value))
			if err != nil {
				return false, err
			}
			name, path := h.ident()
			if !strings.HasPrefix(path, prefix) {
				return false, nil
			}
			if taken++; taken > pg.max {
				return true, nil // the one past the page, only counted
			}
			switch h := h.(type) {
			case *userRec:
				out.PolicyUsers = append(out.PolicyUsers, api.PolicyUser{UserName: new(name), UserId: new(h.ID)})
			case *groupRec:
				out.PolicyGroups = append(out.PolicyGroups, api.PolicyGroup{GroupName: new(name), GroupId: new(h.ID)})
			case *roleRec:
				out.PolicyRoles = append(out.PolicyRoles, api.PolicyRole{RoleName: new(name), RoleId: new(h.ID)})
			}
			return true, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}
