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
	"overcast/internal/policy"
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
		rec, ok := s.managed.byARN[arn]
		return managedPolicy{rec: rec, arn: arn, aws: true, attachable: s.managed.attachable[arn]}, ok, nil
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
	version, err := policiesTable.get(tx, acct, name, &mp.rec)
	if errors.Is(err, store.ErrNotFound) || (err == nil && mp.rec.Path != path) {
		return mp, false, nil
	}
	if err != nil {
		return mp, false, err
	}
	mp.arn, mp.attachable, mp.version = policyARN(acct, mp.rec.Path, mp.rec.Name), true, version
	return mp, true, nil
}

// loadPolicy is findPolicy for operations on the policy itself.
func (s *Service) loadPolicy(tx store.Tx, acct, arn string) (managedPolicy, error) {
	mp, ok, err := s.findPolicy(tx, acct, arn)
	if err == nil && !ok {
		err = api.NewNoSuchEntityException("Policy %s was not found.", arn)
	}
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

func (mp managedPolicy) save(tx store.Tx, acct string, rec policyRec) error {
	return policiesTable.save(tx, acct, mp.rec, mp.version, rec)
}

// useAsBoundary records that an entity uses a policy as its permissions
// boundary, once the policy is known to exist.
func (s *Service) useAsBoundary(tx store.Tx, acct, arn, kind, name string) error {
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

// checkManagedDocument validates a managed policy document and its size.
func checkManagedDocument(doc *string) error {
	if err := checkPolicyDocument(*doc, policy.Identity); err != nil {
		return err
	}
	if policy.Size(*doc) > managedPolicySizeQuota {
		return api.NewLimitExceededException("Cannot exceed quota for PolicySize: %d", managedPolicySizeQuota)
	}
	return nil
}

func (s *Service) CreatePolicy(ctx context.Context, in *api.CreatePolicyRequest) (*api.CreatePolicyResponse, error) {
	if err := checkTagKeys(in.Tags); err != nil {
		return nil, err
	}
	if err := checkManagedDocument(in.PolicyDocument); err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	now := s.clock()
	p := policyRec{Name: *in.PolicyName, Path: orDefault(in.Path, "/"), ID: s.newID(policyIDPrefix),
		Description: in.Description, Created: now, Updated: now, DefaultVersion: "v1",
		Versions: []policyVersion{{ID: "v1", Document: *in.PolicyDocument, Created: now}}, NextVersion: 2,
		Tags: toTags(in.Tags)}
	var out *api.Policy
	err := s.update(ctx, func(tx store.Tx) error {
		if ok, err := policiesTable.exists(tx, acct, p.Name); err != nil || ok {
			return errOr(err, api.NewEntityAlreadyExistsException("A policy called %s already exists. Duplicate names are not allowed.", p.Name))
		}
		if err := policiesTable.create(tx, acct, p); err != nil {
			return err
		}
		var err error
		out, err = policyOut(tx, acct, managedPolicy{rec: p, arn: policyARN(acct, p.Path, p.Name), attachable: true}, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreatePolicyResponse{Policy: out}, nil
}

func (s *Service) GetPolicy(ctx context.Context, in *api.GetPolicyRequest) (*api.GetPolicyResponse, error) {
	acct := accountOf(ctx)
	var out *api.Policy
	err := s.db.View(ctx, func(tx store.Tx) error {
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
	err = s.db.View(ctx, func(tx store.Tx) error {
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
				rec := s.managed.byARN[arn]
				key := "A" + rec.Path + strings.ToLower(rec.Name)
				if key <= pg.after || !strings.HasPrefix(rec.Path, prefix) {
					continue
				}
				goOn, err := consider(managedPolicy{rec: rec, arn: arn, aws: true, attachable: s.managed.attachable[arn]}, key)
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
		return tx.Scan(policiesTable.byPath, opt, func(it store.Item) error {
			var rec policyRec
			version, err := store.GetJSON(tx, policiesTable.name, acct+"/"+string(it.Value), &rec)
			if err != nil {
				return err
			}
			mp := managedPolicy{rec: rec, arn: policyARN(acct, rec.Path, rec.Name), attachable: true, version: version}
			goOn, err := consider(mp, "L"+strings.TrimPrefix(it.Key, acct+"/"))
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
		return policiesTable.remove(tx, acct, mp.rec, mp.version)
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
	if err := checkManagedDocument(in.PolicyDocument); err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	setDefault := in.SetAsDefault != nil && *in.SetAsDefault
	var pv policyVersion
	err := s.update(ctx, func(tx store.Tx) error {
		mp, err := s.loadOwnPolicy(ctx, tx, "CreatePolicyVersion", *in.PolicyArn)
		if err != nil {
			return err
		}
		if len(mp.rec.Versions) >= maxPolicyVersions {
			return api.NewLimitExceededException("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		rec := mp.rec
		now := s.clock()
		pv = policyVersion{ID: "v" + strconv.Itoa(rec.NextVersion), Document: *in.PolicyDocument, Created: now}
		rec.NextVersion++
		rec.Versions = append(slices.Clone(rec.Versions), pv)
		if setDefault {
			rec.DefaultVersion, rec.Updated = pv.ID, now
		}
		return mp.save(tx, acct, rec)
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
	var out *api.PolicyVersion
	err := s.db.View(ctx, func(tx store.Tx) error {
		mp, err := s.loadPolicy(tx, accountOf(ctx), *in.PolicyArn)
		if err != nil {
			return err
		}
		pv, err := findVersion(mp, *in.VersionId)
		if err != nil {
			return err
		}
		out = versionOut(pv, pv.ID == mp.rec.DefaultVersion, true)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.GetPolicyVersionResponse{PolicyVersion: out}, nil
}

// ListPolicyVersions lists versions newest first, as AWS does.
func (s *Service) ListPolicyVersions(ctx context.Context, in *api.ListPolicyVersionsRequest) (*api.ListPolicyVersionsResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	var mp managedPolicy
	err = s.db.View(ctx, func(tx store.Tx) (err error) {
		mp, err = s.loadPolicy(tx, accountOf(ctx), *in.PolicyArn)
		return err
	})
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
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		mp, err := s.loadOwnPolicy(ctx, tx, "DeletePolicyVersion", *in.PolicyArn)
		if err != nil {
			return err
		}
		if _, err := findVersion(mp, *in.VersionId); err != nil {
			return err
		}
		if *in.VersionId == mp.rec.DefaultVersion {
			return api.NewDeleteConflictException("Cannot delete the default version of a policy.")
		}
		rec := mp.rec
		rec.Versions = slices.DeleteFunc(slices.Clone(rec.Versions), func(pv policyVersion) bool { return pv.ID == *in.VersionId })
		return mp.save(tx, acct, rec)
	})
}

func (s *Service) SetDefaultPolicyVersion(ctx context.Context, in *api.SetDefaultPolicyVersionRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		mp, err := s.loadOwnPolicy(ctx, tx, "SetDefaultPolicyVersion", *in.PolicyArn)
		if err != nil {
			return err
		}
		if _, err := findVersion(mp, *in.VersionId); err != nil {
			return err
		}
		rec := mp.rec
		rec.DefaultVersion, rec.Updated = *in.VersionId, s.clock()
		return mp.save(tx, acct, rec)
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
	err = s.db.View(ctx, func(tx store.Tx) error {
		mp, err := s.loadPolicy(tx, acct, *in.PolicyArn)
		if err != nil {
			return err
		}
		next, err = pg.scan(tx, attachmentsTable, acct, mp.arn+"|", func(it store.Item) (bool, error) {
			parts := strings.Split(it.Key[len(attachmentPrefix(acct, mp.arn)):], "|")
			if len(parts) != 3 || (usage != "" && parts[0] != usage) || (entityFilter != "" && parts[1] != entityFilter) {
				return false, nil
			}
			h, _, err := holderKinds[parts[1]].load(tx, acct, string(it.Value))
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

var holderKinds = map[string]holderKind{"user": userHolder, "group": groupHolder, "role": roleHolder}

func (s *Service) modifyPolicy(ctx context.Context, op, arn string, change func(*policyRec) error) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		mp, err := s.loadOwnPolicy(ctx, tx, op, arn)
		if err != nil {
			return err
		}
		rec := mp.rec
		if err := change(&rec); err != nil {
			return err
		}
		return mp.save(tx, acct, rec)
	})
}

func (s *Service) TagPolicy(ctx context.Context, in *api.TagPolicyRequest) error {
	if err := checkTagKeys(in.Tags); err != nil {
		return err
	}
	return s.modifyPolicy(ctx, "TagPolicy", *in.PolicyArn, func(p *policyRec) (err error) {
		p.Tags, err = mergeTags(p.Tags, in.Tags)
		return err
	})
}

func (s *Service) UntagPolicy(ctx context.Context, in *api.UntagPolicyRequest) error {
	return s.modifyPolicy(ctx, "UntagPolicy", *in.PolicyArn, func(p *policyRec) error {
		p.Tags = removeTags(p.Tags, in.TagKeys)
		return nil
	})
}

func (s *Service) ListPolicyTags(ctx context.Context, in *api.ListPolicyTagsRequest) (*api.ListPolicyTagsResponse, error) {
	var mp managedPolicy
	err := s.db.View(ctx, func(tx store.Tx) (err error) {
		mp, err = s.loadPolicy(tx, accountOf(ctx), *in.PolicyArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListPolicyTagsResponse{}
	out.Tags, out.IsTruncated, out.Marker, err = tagsPage(mp.rec.Tags, in.Marker, in.MaxItems)
	return out, err
}
