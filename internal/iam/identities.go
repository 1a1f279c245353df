package iam

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	api "overcast/internal/api/iam"
	"overcast/internal/authz"
	"overcast/internal/store"
)

// What authorization (internal/authz) reads of IAM: the policies of a user
// or a role, parsed, on every request under --enforce-iam. They are cached
// by ARN; every IAM write empties the cache, and entries expire after
// identityCacheTTL so that another process sharing the store is seen too.

var _ authz.Identities = (*Service)(nil)

const identityCacheTTL = 10 * time.Second

type identityCache struct {
	mu      sync.RWMutex
	gen     uint64
	entries map[string]cachedIdentity
}

type cachedIdentity struct {
	at       time.Time
	identity *authz.Identity // nil for an ARN IAM does not know
}

func (c *identityCache) get(arn string, now time.Time) (*authz.Identity, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[arn]
	if ok && now.Sub(e.at) < identityCacheTTL && !now.Before(e.at) {
		return e.identity, c.gen, true
	}
	return nil, c.gen, false
}

// put keeps what was read under generation gen, unless a write came since.
func (c *identityCache) put(arn string, gen uint64, e cachedIdentity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= keyCacheMax {
		c.entries = map[string]cachedIdentity{}
	}
	c.entries[arn] = e
}

func (c *identityCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// IdentityOf returns the policies of the user, role (or group) arn names: its
// inline and attached policies, a user's groups' too, its permissions
// boundary and its tags; nil for an ARN IAM does not know.
func (s *Service) IdentityOf(ctx context.Context, arn string) (*authz.Identity, error) {
	now := s.Now()
	if id, _, ok := s.identities.get(arn, now); ok {
		return id, nil
	}
	_, gen, _ := s.identities.get(arn, now)
	var id *authz.Identity
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		id, err = s.loadIdentity(tx, arn)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.identities.put(arn, gen, cachedIdentity{at: now, identity: id})
	return id, nil
}

func (s *Service) loadIdentity(tx store.Tx, arn string) (*authz.Identity, error) {
	var entity, inlineType string
	var inline []inlinePolicy
	var attached []string
	var boundary string
	var tags []tag
	var groupNames []string
	acct := ""
	var err error
	switch {
	case strings.Contains(arn, ":user/"):
		var u userRec
		acct, u, err = users.loadByARN(tx, arn)
		entity, inlineType, inline, attached, boundary, tags, groupNames = u.Name, "user", u.Inline, u.Attached, u.Boundary, u.Tags, u.Groups
	case strings.Contains(arn, ":role/"):
		var r roleRec
		acct, r, err = roles.loadByARN(tx, arn)
		entity, inlineType, inline, attached, boundary, tags = r.Name, "role", r.Inline, r.Attached, r.Boundary, r.Tags
	case strings.Contains(arn, ":group/"): // for the simulator
		var g groupRec
		acct, g, err = groups.loadByARN(tx, arn)
		entity, inlineType, inline, attached = g.Name, "group", g.Inline, g.Attached
	default:
		return nil, nil
	}
	if isNoSuchEntity(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	id := &authz.Identity{}
	if err := s.addPolicies(tx, acct, id, inlineType, entity, inline, attached); err != nil {
		return nil, err
	}
	for _, name := range groupNames {
		g, _, err := groups.load(tx, acct, name)
		if isNoSuchEntity(err) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		if err := s.addPolicies(tx, acct, id, "group", g.Name, g.Inline, g.Attached); err != nil {
			return nil, err
		}
	}
	if boundary != "" {
		p, err := s.managedPolicy(tx, acct, boundary)
		if err != nil {
			return nil, err
		}
		if p == nil {
			p = &authz.Policy{ID: boundary, Type: "none"} // a boundary that allows nothing
		}
		id.Boundary = p
	}
	id.Tags = tagMap(tags)
	return id, nil
}

func isNoSuchEntity(err error) bool {
	var nse *api.NoSuchEntityException
	return errors.As(err, &nse)
}

// addPolicies adds one holder's inline and attached policies to id.
func (s *Service) addPolicies(tx store.Tx, acct string, id *authz.Identity, typ, holder string, inline []inlinePolicy, attached []string) error {
	for _, p := range inline {
		parsed := authz.ParsePolicy(p.Name, typ, p.Document)
		parsed.Holder = holder
		id.Policies = append(id.Policies, parsed)
	}
	for _, arn := range attached {
		p, err := s.managedPolicy(tx, acct, arn)
		if err != nil {
			return err
		}
		if p != nil {
			id.Policies = append(id.Policies, *p)
		}
	}
	return nil
}

// managedPolicy is a managed policy's default version, parsed; nil when
// it does not exist.
func (s *Service) managedPolicy(tx store.Tx, acct, arn string) (*authz.Policy, error) {
	mp, ok, err := s.findPolicy(tx, acct, arn)
	if err != nil || !ok {
		return nil, err
	}
	typ := "user-managed"
	if mp.aws {
		typ = "aws-managed"
	}
	for _, v := range mp.rec.Versions {
		if v.ID == mp.rec.DefaultVersion {
			p := authz.ParsePolicy(mp.rec.Name, typ, v.Document)
			p.ARN = arn
			return &p, nil
		}
	}
	return nil, nil
}

// ManagedPolicy returns the default version of the managed policy arn
// names, in its own account; nil when it does not exist.
func (s *Service) ManagedPolicy(ctx context.Context, arn string) (p *authz.Policy, err error) {
	acct := ""
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		acct = parts[4]
	}
	err = s.Store.View(ctx, func(tx store.Tx) error {
		p, err = s.managedPolicy(tx, acct, arn)
		return err
	})
	return p, err
}

// table authorizes each IAM operation on the entity it names, by the
// first of these its input has (AddUserToGroup acts on the group,
// AttachRolePolicy on the role, AddRoleToInstanceProfile on the profile).
var entityFields = []struct{ field, resource string }{
	{"InstanceProfileName", "instance-profile/"}, {"GroupName", "group/"}, {"RoleName", "role/"},
	{"UserName", "user/"}, {"PolicyArn", ""}, {"PolicySourceArn", ""}, {"OpenIDConnectProviderArn", ""}, {"SAMLProviderArn", ""},
}

func entityResource(ctx context.Context, s authz.Scope, in any) []string {
	for _, f := range entityFields {
		v := authz.StringField(in, f.field)
		switch {
		case v == "":
		case f.resource == "":
			return []string{v}
		default:
			return []string{s.GlobalARN("iam", f.resource+v)}
		}
	}
	return nil
}

func iamTable() *authz.Table {
	return &authz.Table{Prefix: "iam", Rules: authz.Every(api.Bind(&Service{}).Service(), authz.Rule{Resources: entityResource}, nil)}
}

var _ authz.Resources = (*Service)(nil)

// ResourceOf describes an IAM resource for authorization: a role's trust
// policy is its resource-based policy, which sts:AssumeRole is decided by;
// roles' and users' tags are aws:ResourceTag and iam:ResourceTag.
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	acct := ""
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		acct = parts[4]
	}
	res := authz.Resource{Owner: acct}
	var err error
	switch {
	case strings.Contains(arn, ":role/"):
		var r roleRec
		err = s.Store.View(ctx, func(tx store.Tx) (err error) {
			_, r, err = roles.loadByARN(tx, arn)
			return err
		})
		if err == nil {
			trust := authz.ParsePolicy(r.Name, "resource", r.Trust)
			res.Policy, res.Tags = &trust, tagMap(r.Tags)
		}
	case strings.Contains(arn, ":user/"):
		var u userRec
		err = s.Store.View(ctx, func(tx store.Tx) (err error) {
			_, u, err = users.loadByARN(tx, arn)
			return err
		})
		res.Tags = tagMap(u.Tags)
	}
	if isNoSuchEntity(err) {
		return authz.Resource{Owner: acct}, nil
	}
	return res, err
}

// tagMap is an entity's tags by key, nil for none.
func tagMap(tags []tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}
