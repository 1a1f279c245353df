package iam

import (
	"context"
	"errors"
	"strconv"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

// quotas are IAM's default account quotas, as GetAccountSummary reports
// them and as the checks elsewhere enforce the ones overcast enforces.
var quotas = map[string]int32{
	api.SummaryKeyTypeUsersQuota:                      5000,
	api.SummaryKeyTypeGroupsQuota:                     300,
	api.SummaryKeyTypeRolesQuota:                      1000,
	api.SummaryKeyTypePoliciesQuota:                   1500,
	api.SummaryKeyTypeInstanceProfilesQuota:           1000,
	api.SummaryKeyTypeServerCertificatesQuota:         20,
	api.SummaryKeyTypeUserPolicySizeQuota:             userInlineSizeQuota,
	api.SummaryKeyTypeGroupPolicySizeQuota:            groupInlineSizeQuota,
	api.SummaryKeyTypeRolePolicySizeQuota:             roleInlineSizeQuota,
	api.SummaryKeyTypePolicySizeQuota:                 managedPolicySizeQuota,
	api.SummaryKeyTypeAssumeRolePolicySizeQuota:       trustPolicySizeQuota,
	api.SummaryKeyTypeGroupsPerUserQuota:              maxGroupsPerUser,
	api.SummaryKeyTypeSigningCertificatesPerUserQuota: 2,
	api.SummaryKeyTypeAccessKeysPerUserQuota:          maxAccessKeysPerUser,
	api.SummaryKeyTypeAttachedPoliciesPerUserQuota:    10,
	api.SummaryKeyTypeAttachedPoliciesPerGroupQuota:   10,
	api.SummaryKeyTypeAttachedPoliciesPerRoleQuota:    20,
	api.SummaryKeyTypePolicyVersionsInUseQuota:        10000,
	api.SummaryKeyTypeVersionsPerPolicyQuota:          maxPolicyVersions,
	api.SummaryKeyTypeGlobalEndpointTokenVersion:      1,
}

// GetAccountSummary counts the account's entities.
func (s *Service) GetAccountSummary(ctx context.Context) (*api.GetAccountSummaryResponse, error) {
	acct := accountOf(ctx)
	summary := api.SummaryMapType{}
	for k, v := range quotas {
		summary[k] = v
	}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		counted := map[string]entityTable{
			api.SummaryKeyTypeUsers:            users.table,
			api.SummaryKeyTypeGroups:           groups.table,
			api.SummaryKeyTypeRoles:            roles.table,
			api.SummaryKeyTypePolicies:         policies.table,
			api.SummaryKeyTypeInstanceProfiles: instanceProfiles.table,
		}
		for key, table := range counted {
			n, err := table.count(tx, acct)
			if err != nil {
				return err
			}
			summary[key] = int32(n)
		}
		versions := 0
		err := store.ScanJSON(tx, policies.table.name, store.ScanOptions{Prefix: acct + "/"}, func(_ string, p policyRec, _ int64) error {
			versions += len(p.Versions)
			return nil
		})
		if err != nil {
			return err
		}
		summary[api.SummaryKeyTypePolicyVersionsInUse] = int32(versions)
		var a accountRec
		if _, err := store.GetJSON(tx, accountsTable, acct, &a); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		summary[api.SummaryKeyTypeAccountAccessKeysPresent] = int32(min(len(a.RootKeys), 1))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, k := range []string{api.SummaryKeyTypeServerCertificates, api.SummaryKeyTypeMFADevices,
		api.SummaryKeyTypeMFADevicesInUse, api.SummaryKeyTypeAccountMFAEnabled, api.SummaryKeyTypeProviders,
		api.SummaryKeyTypeAccountPasswordPresent, api.SummaryKeyTypeAccountSigningCertificatesPresent} {
		summary[k] = 0
	}
	return &api.GetAccountSummaryResponse{SummaryMap: summary}, nil
}

func (s *Service) ListAccountAliases(ctx context.Context, in *api.ListAccountAliasesRequest) (*api.ListAccountAliasesResponse, error) {
	var a accountRec
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, accountsTable, accountOf(ctx), &a)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListAccountAliasesResponse{AccountAliases: api.AccountAliasListType{}, IsTruncated: new(false)}
	if a.Alias != "" {
		out.AccountAliases = append(out.AccountAliases, a.Alias)
	}
	return out, nil
}

// CreateAccountAlias sets the account's one alias, replacing any other.
// Aliases are unique across all accounts.
func (s *Service) CreateAccountAlias(ctx context.Context, in *api.CreateAccountAliasRequest) error {
	alias := *in.AccountAlias
	if !validAccountAlias(alias) {
		return constraintError("accountAlias", alias, "Member must satisfy regular expression pattern: "+accountAliasPattern)
	}
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		owner, err := tx.Get(aliasesTable, alias)
		switch {
		case err == nil && string(owner.Value) == acct:
			return nil
		case err == nil:
			return api.NewEntityAlreadyExistsException("The account alias %s already exists.", alias)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		var a accountRec
		version, err := store.GetJSON(tx, accountsTable, acct, &a)
		if errors.Is(err, store.ErrNotFound) {
			a, version, err = accountRec{Created: s.clock()}, 0, nil
		}
		if err != nil {
			return err
		}
		if a.Alias != "" {
			if err := tx.Delete(aliasesTable, a.Alias, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		a.Alias = alias
		if _, err := tx.Put(aliasesTable, alias, []byte(acct), 0); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, accountsTable, acct, a, version)
		return err
	})
}

func (s *Service) DeleteAccountAlias(ctx context.Context, in *api.DeleteAccountAliasRequest) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		var a accountRec
		version, err := store.GetJSON(tx, accountsTable, acct, &a)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if a.Alias == "" || a.Alias != *in.AccountAlias {
			return api.NewNoSuchEntityException("The account alias %s cannot be found.", *in.AccountAlias)
		}
		if err := tx.Delete(aliasesTable, a.Alias, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		a.Alias = ""
		_, err = store.PutJSON(tx, accountsTable, acct, a, version)
		return err
	})
}

// GetAccountAuthorizationDetails reports every user, group, role and
// managed policy in use, with their policies. The page is over all four
// lists together, in that order; the marker is a position in it.
func (s *Service) GetAccountAuthorizationDetails(ctx context.Context, in *api.GetAccountAuthorizationDetailsRequest) (*api.GetAccountAuthorizationDetailsResponse, error) {
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	start := 0
	if pg.after != "" {
		if start, err = strconv.Atoi(pg.after); err != nil || start < 0 {
			return nil, validationError("Invalid Marker.")
		}
	}
	want := func(t string) bool {
		if len(in.Filter) == 0 {
			return true
		}
		for _, f := range in.Filter {
			if f == t {
				return true
			}
		}
		return false
	}
	acct := accountOf(ctx)
	out := &api.GetAccountAuthorizationDetailsResponse{UserDetailList: api.UserDetailListType{},
		GroupDetailList: api.GroupDetailListType{}, RoleDetailList: api.RoleDetailListType{},
		Policies: api.ManagedPolicyDetailListType{}}
	pos := 0
	// take reports whether the next item is on this page.
	take := func() bool {
		pos++
		return pos > start && pos <= start+pg.max
	}
	err = s.Store.View(ctx, func(tx store.Tx) (err error) {
		if want(api.EntityTypeUser) {
			if out.UserDetailList, err = detailsOnPage(tx, acct, users, take, userDetail); err != nil {
				return err
			}
		}
		if want(api.EntityTypeGroup) {
			if out.GroupDetailList, err = detailsOnPage(tx, acct, groups, take, groupDetail); err != nil {
				return err
			}
		}
		if want(api.EntityTypeRole) {
			if out.RoleDetailList, err = detailsOnPage(tx, acct, roles, take, roleDetail); err != nil {
				return err
			}
		}
		addPolicy := func(mp managedPolicy) error {
			p, err := policyOut(tx, acct, mp, false)
			if err != nil {
				return err
			}
			if mp.aws && *p.AttachmentCount+*p.PermissionsBoundaryUsageCount == 0 {
				return nil // AWS reports only the AWS managed policies in use
			}
			if !take() {
				return nil
			}
			d := api.ManagedPolicyDetail{PolicyName: p.PolicyName, PolicyId: p.PolicyId, Arn: p.Arn, Path: p.Path,
				DefaultVersionId: p.DefaultVersionId, AttachmentCount: p.AttachmentCount,
				PermissionsBoundaryUsageCount: p.PermissionsBoundaryUsageCount, IsAttachable: p.IsAttachable,
				Description: mp.rec.Description, CreateDate: p.CreateDate, UpdateDate: p.UpdateDate,
				PolicyVersionList: api.PolicyDocumentVersionListType{}}
			for _, pv := range mp.rec.Versions {
				d.PolicyVersionList = append(d.PolicyVersionList, *versionOut(pv, pv.ID == mp.rec.DefaultVersion, true))
			}
			out.Policies = append(out.Policies, d)
			return nil
		}
		if want(api.EntityTypeAWSManagedPolicy) {
			for _, arn := range s.managed.sorted {
				mp, _ := s.managed.policy(arn)
				if err := addPolicy(mp); err != nil {
					return err
				}
			}
		}
		if want(api.EntityTypeLocalManagedPolicy) {
			own, _, err := policies.list(tx, acct, "/", unpaged)
			if err != nil {
				return err
			}
			for _, p := range own {
				if err := addPolicy(ownPolicy(acct, p, 0)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	next := ""
	if pos > start+pg.max {
		next = encodeMarker(strconv.Itoa(start + pg.max))
	}
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}

// detailsOnPage describes acct's entities of kind k that onPage says are
// on the page, in path order.
func detailsOnPage[T any, P record[T], O any](tx store.Tx, acct string, k entityKind[T, P], onPage func() bool, describe summary[T, O]) ([]O, error) {
	all, _, err := k.list(tx, acct, "/", unpaged)
	if err != nil {
		return nil, err
	}
	var shown []T
	for _, v := range all {
		if onPage() {
			shown = append(shown, v)
		}
	}
	return describeAll(tx, acct, shown, describe)
}

func userDetail(tx store.Tx, acct string, u userRec) (api.UserDetail, error) {
	d := api.UserDetail{Path: new(u.Path), UserName: new(u.Name), UserId: new(u.ID),
		Arn: new(users.arn(acct, u.Path, u.Name)), CreateDate: new(u.Created), Tags: apiTags(u.Tags),
		UserPolicyList: inlineDetails(u.Inline), AttachedManagedPolicies: attachedList(u.Attached),
		PermissionsBoundary: boundaryOut(u.Boundary), GroupList: api.GroupNameListType{}}
	for _, g := range u.Groups {
		if rec, _, err := groups.load(tx, acct, g); err == nil {
			d.GroupList = append(d.GroupList, rec.Name)
		}
	}
	return d, nil
}

func groupDetail(_ store.Tx, acct string, g groupRec) (api.GroupDetail, error) {
	return api.GroupDetail{Path: new(g.Path), GroupName: new(g.Name), GroupId: new(g.ID),
		Arn: new(groups.arn(acct, g.Path, g.Name)), CreateDate: new(g.Created),
		GroupPolicyList: inlineDetails(g.Inline), AttachedManagedPolicies: attachedList(g.Attached)}, nil
}

func roleDetail(tx store.Tx, acct string, r roleRec) (api.RoleDetail, error) {
	profiles, err := instanceProfiles.loadAll(tx, acct, r.InstanceProfiles)
	if err != nil {
		return api.RoleDetail{}, err
	}
	described, err := describeAll(tx, acct, profiles, instanceProfileSummary)
	return api.RoleDetail{Path: new(r.Path), RoleName: new(r.Name), RoleId: new(r.ID),
		Arn: new(roles.arn(acct, r.Path, r.Name)), CreateDate: new(r.Created),
		AssumeRolePolicyDocument: new(encodeDocument(r.Trust)), Tags: apiTags(r.Tags),
		RolePolicyList: inlineDetails(r.Inline), AttachedManagedPolicies: attachedList(r.Attached),
		PermissionsBoundary: boundaryOut(r.Boundary), RoleLastUsed: &api.RoleLastUsed{},
		InstanceProfileList: described}, err
}

func inlineDetails(ps []inlinePolicy) api.PolicyDetailListType {
	out := api.PolicyDetailListType{}
	for _, p := range ps {
		out = append(out, api.PolicyDetail{PolicyName: new(p.Name), PolicyDocument: new(encodeDocument(p.Document))})
	}
	return out
}

func attachedList(arns []string) api.AttachedPoliciesListType {
	out := api.AttachedPoliciesListType{}
	for _, arn := range arns {
		_, name := splitPolicyARN(arn)
		out = append(out, api.AttachedPolicy{PolicyName: new(name), PolicyArn: new(arn)})
	}
	return out
}
