package ec2

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	api "overcast/internal/api/ec2"
	"overcast/internal/service"
	"overcast/internal/store"
)

// groupsTable holds one record per security group, keyed by scope and ID.
const groupsTable = "ec2.groups"

// group is a security group. Its rules are stored and reported, not
// enforced: every address is loopback, which no rule could keep apart.
type group struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	VPCID       string            `json:"vpcId"`
	Ingress     []rule            `json:"ingress,omitempty"`
	Egress      []rule            `json:"egress,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// rule is one security group rule: a protocol and port range with one
// peer (an IPv4 or IPv6 range, another group, or a prefix list).
type rule struct {
	ID          string `json:"id"`
	Protocol    string `json:"protocol"` // tcp, udp, icmp, a number, or -1 for all
	From        *int32 `json:"from,omitempty"`
	To          *int32 `json:"to,omitempty"`
	CIDR        string `json:"cidr,omitempty"`
	CIDRv6      string `json:"cidrv6,omitempty"`
	GroupID     string `json:"groupId,omitempty"`
	PrefixList  string `json:"prefixList,omitempty"`
	Description string `json:"description,omitempty"`
}

// same reports whether two rules allow the same traffic from the same
// peer: AWS refuses the second as a duplicate.
func (r rule) same(o rule) bool {
	return r.Protocol == o.Protocol &&
		derefInt(r.From) == derefInt(o.From) && derefInt(r.To) == derefInt(o.To) &&
		r.CIDR == o.CIDR && r.CIDRv6 == o.CIDRv6 && r.GroupID == o.GroupID && r.PrefixList == o.PrefixList
}

func derefInt(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

func (s *Service) newDefaultGroup(vpcID string) group {
	g := group{ID: s.IDs.Resource("sg"), Name: "default", Description: "default VPC security group", VPCID: vpcID}
	g.Ingress = []rule{{ID: s.IDs.Resource("sgr"), Protocol: "-1", GroupID: g.ID}}
	g.Egress = []rule{s.allTrafficOut()}
	return g
}

// allTrafficOut is the egress rule every new group starts with.
func (s *Service) allTrafficOut() rule {
	return rule{ID: s.IDs.Resource("sgr"), Protocol: "-1", CIDR: "0.0.0.0/0"}
}

func groupNotFound(id string) error {
	return badRequest("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
}

func groupNameNotFound(name, vpcID string) error {
	return badRequest("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, vpcID)
}

// CreateSecurityGroup makes a group in a VPC, the default one unless named.
func (s *Service) CreateSecurityGroup(ctx context.Context, in *api.CreateSecurityGroupRequest) (*api.CreateSecurityGroupResult, error) {
	sc := scopeOf(ctx)
	d, err := s.ensureDefaults(ctx, sc)
	if err != nil {
		return nil, err
	}
	name := *in.GroupName
	switch {
	case name == "default":
		return nil, badRequest("InvalidGroup.Reserved", "The security group 'default' is reserved")
	case strings.HasPrefix(name, "sg-"):
		return nil, invalidParameterValue("Group names may not be in the format sg-*.")
	case len(name) > 255 || len(*in.Description) > 255:
		return nil, invalidParameterValue("Group name and description must be at most 255 characters")
	}
	tags, err := specTags(in.TagSpecifications, "security-group")
	if err != nil {
		return nil, err
	}
	vpcID := service.DerefOr(in.VpcId, d.VPCID)
	g := group{ID: s.IDs.Resource("sg"), Name: name, Description: *in.Description, VPCID: vpcID, Tags: tags,
		Egress: []rule{s.allTrafficOut()}}
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if _, err := tx.Get(vpcsTable, sc.Key(vpcID)); errors.Is(err, store.ErrNotFound) {
			return notFound("InvalidVpcID.NotFound", "vpc", []string{vpcID})
		} else if err != nil {
			return err
		}
		if _, ok, err := groupByName(tx, sc, vpcID, name); err != nil || ok {
			if err == nil {
				err = badRequest("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
			}
			return err
		}
		_, err := store.PutJSON(tx, groupsTable, sc.Key(g.ID), g, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateSecurityGroupResult{GroupId: new(g.ID), Tags: apiTags(tags),
		SecurityGroupArn: new(resourceARN(sc, "security-group", g.ID))}, nil
}

func groupByName(tx store.Tx, sc scope, vpcID, name string) (group, bool, error) {
	var found group
	ok := false
	err := store.ScanJSON(tx, groupsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, g group, _ int64) error {
		if g.VPCID == vpcID && g.Name == name {
			found, ok = g, true
			return store.ErrStop
		}
		return nil
	})
	if errors.Is(err, store.ErrStop) {
		err = nil
	}
	return found, ok, err
}

// findGroup reads the group a request names by ID or, in the default VPC,
// by name.
func findGroup(tx store.Tx, sc scope, d defaults, id, name *string) (group, int64, error) {
	var g group
	switch {
	case id != nil:
		if !wellFormed(*id, "sg") {
			return g, 0, malformed("InvalidGroupId.Malformed", *id, "sg")
		}
		version, err := store.GetJSON(tx, groupsTable, sc.Key(*id), &g)
		if errors.Is(err, store.ErrNotFound) {
			err = groupNotFound(*id)
		}
		return g, version, err
	case name != nil:
		found, ok, err := groupByName(tx, sc, d.VPCID, *name)
		if err == nil && !ok {
			err = groupNameNotFound(*name, d.VPCID)
		}
		if err != nil {
			return g, 0, err
		}
		version, err := store.GetJSON(tx, groupsTable, sc.Key(found.ID), &g)
		return g, version, err
	}
	return g, 0, badRequest("MissingParameter", "The request must contain the parameter groupName or groupId")
}

// DeleteSecurityGroup deletes a group no instance, interface or other
// group's rule uses.
func (s *Service) DeleteSecurityGroup(ctx context.Context, in *api.DeleteSecurityGroupRequest) (*api.DeleteSecurityGroupResult, error) {
	sc := scopeOf(ctx)
	d, err := s.ensureDefaults(ctx, sc)
	if err != nil {
		return nil, err
	}
	var g group
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var version int64
		var err error
		g, version, err = findGroup(tx, sc, d, in.GroupId, in.GroupName)
		if err != nil {
			return err
		}
		if g.Name == "default" {
			return badRequest("CannotDelete", `the specified group: "%s" name: "default" cannot be deleted by a user`, g.ID)
		}
		inUse, err := groupInUse(tx, sc, g.ID)
		if err != nil {
			return err
		}
		if inUse {
			return badRequest("DependencyViolation", "resource %s has a dependent object", g.ID)
		}
		return tx.Delete(groupsTable, sc.Key(g.ID), version)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteSecurityGroupResult{Return: new(true), GroupId: new(g.ID)}, nil
}

// groupInUse reports whether a live instance, a network interface or
// another group's rule refers to the group.
func groupInUse(tx store.Tx, sc scope, id string) (bool, error) {
	used := false
	stopIf := func(cond bool) error {
		if cond {
			used = true
			return store.ErrStop
		}
		return nil
	}
	opt := store.ScanOptions{Prefix: sc.Prefix()}
	err := store.ScanJSON(tx, interfacesTable, opt, func(_ string, n networkInterface, _ int64) error {
		return stopIf(contains(n.Groups, id))
	})
	if err == nil {
		err = store.ScanJSON(tx, groupsTable, opt, func(_ string, g group, _ int64) error {
			return stopIf(g.ID != id && slices.ContainsFunc(append(g.Ingress, g.Egress...), func(r rule) bool { return r.GroupID == id }))
		})
	}
	if errors.Is(err, store.ErrStop) {
		err = nil
	}
	return used, err
}

// DescribeSecurityGroups lists the scope's security groups.
func (s *Service) DescribeSecurityGroups(ctx context.Context, in *api.DescribeSecurityGroupsRequest) (*api.DescribeSecurityGroupsResult, error) {
	sc, d, err := s.describing(ctx, in.GroupIds, "sg", "InvalidGroupId.Malformed")
	if err != nil {
		return nil, err
	}
	var groups []group
	err = s.Store.View(ctx, func(tx store.Tx) error {
		var missing []string
		for _, id := range service.Distinct(in.GroupIds) {
			var g group
			if _, err := store.GetJSON(tx, groupsTable, sc.Key(id), &g); errors.Is(err, store.ErrNotFound) {
				missing = append(missing, id)
			} else if err != nil {
				return err
			}
			groups = append(groups, g)
		}
		if len(missing) > 0 {
			return badRequest("InvalidGroup.NotFound", "The security group '%s' does not exist", strings.Join(missing, ", "))
		}
		for _, name := range service.Distinct(in.GroupNames) {
			g, ok, err := groupByName(tx, sc, d.VPCID, name)
			if err == nil && !ok {
				err = groupNameNotFound(name, d.VPCID)
			}
			if err != nil {
				return err
			}
			groups = append(groups, g)
		}
		if len(in.GroupIds) == 0 && len(in.GroupNames) == 0 {
			var err error
			groups, err = loadAll[group](tx, groupsTable, sc, nil, "", "")
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	views, next, err := describeViews(groups, groupFilter(sc), in.Filters, in.NextToken, in.MaxResults, func(g group) string { return g.ID },
		func(g group) api.SecurityGroup {
			return api.SecurityGroup{GroupId: new(g.ID), GroupName: new(g.Name),
				Description: new(g.Description), VpcId: new(g.VPCID), OwnerId: new(sc.Account),
				SecurityGroupArn: new(resourceARN(sc, "security-group", g.ID)), Tags: apiTags(g.Tags),
				IpPermissions: permissions(sc, g.VPCID, g.Ingress), IpPermissionsEgress: permissions(sc, g.VPCID, g.Egress)}
		})
	if err != nil {
		return nil, err
	}
	return &api.DescribeSecurityGroupsResult{NextToken: next, SecurityGroups: views}, nil
}

func groupFilter(sc scope) fields[group] {
	return fields[group]{values: map[string]func(group) any{
		"group-id":    func(g group) any { return g.ID },
		"group-name":  func(g group) any { return g.Name },
		"description": func(g group) any { return g.Description },
		"vpc-id":      func(g group) any { return g.VPCID },
		"owner-id":    always[group](sc.Account),
	}, tags: func(g group) map[string]string { return g.Tags }, more: ruleFilter}
}

// ruleFilter answers the filters on a group's rules:
// ip-permission.<field> for its ingress rules, egress.ip-permission.<field>
// for its egress rules.
func ruleFilter(g group, name string) ([]string, bool) {
	rules := g.Ingress
	if rest, ok := strings.CutPrefix(name, "egress."); ok {
		rules, name = g.Egress, rest
	}
	field, ok := strings.CutPrefix(name, "ip-permission.")
	if !ok {
		return nil, false
	}
	var values []string
	for _, r := range rules {
		values = append(values, ruleField(r, field)...)
	}
	return values, contains([]string{"cidr", "ipv6-cidr", "from-port", "to-port", "protocol", "group-id", "prefix-list-id"}, field)
}

func ruleField(r rule, field string) []string {
	value := map[string]string{"cidr": r.CIDR, "ipv6-cidr": r.CIDRv6, "protocol": r.Protocol, "group-id": r.GroupID,
		"prefix-list-id": r.PrefixList}[field]
	switch field {
	case "from-port":
		value = strconv.Itoa(int(derefInt(r.From)))
	case "to-port":
		value = strconv.Itoa(int(derefInt(r.To)))
	}
	if value == "" {
		return nil
	}
	return []string{value}
}

// permissions groups rules as AWS reports them: one IpPermission per
// protocol and port range, listing its peers.
func permissions(sc scope, vpcID string, rules []rule) api.IpPermissionList {
	out := api.IpPermissionList{}
	index := map[string]int{}
	for _, r := range rules {
		key := fmt.Sprint(r.Protocol, derefInt(r.From), derefInt(r.To))
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, api.IpPermission{IpProtocol: new(r.Protocol), FromPort: r.From, ToPort: r.To,
				IpRanges: api.IpRangeList{}, Ipv6Ranges: api.Ipv6RangeList{}, UserIdGroupPairs: api.UserIdGroupPairList{},
				PrefixListIds: api.PrefixListIdList{}})
		}
		p := &out[i]
		description := service.OmitZero(r.Description)
		switch {
		case r.CIDR != "":
			p.IpRanges = append(p.IpRanges, api.IpRange{CidrIp: new(r.CIDR), Description: description})
		case r.CIDRv6 != "":
			p.Ipv6Ranges = append(p.Ipv6Ranges, api.Ipv6Range{CidrIpv6: new(r.CIDRv6), Description: description})
		case r.GroupID != "":
			p.UserIdGroupPairs = append(p.UserIdGroupPairs, api.UserIdGroupPair{GroupId: new(r.GroupID), UserId: new(sc.Account),
				Description: description})
		case r.PrefixList != "":
			p.PrefixListIds = append(p.PrefixListIds, api.PrefixListId{PrefixListId: new(r.PrefixList), Description: description})
		}
	}
	return out
}

// protocols are the names AWS accepts for IpProtocol besides numbers, and
// the name it reports.
var protocols = map[string]string{"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp",
	"icmpv6": "icmpv6", "58": "icmpv6", "-1": "-1", "all": "-1"}

// requestedRules turns a request's permissions (IpPermissions, or the
// older flat CidrIp/IpProtocol/FromPort/ToPort/SourceSecurityGroupName
// form) into rules, one per peer.
func (s *Service) requestedRules(tx store.Tx, sc scope, d defaults, perms []api.IpPermission, flat api.IpPermission, sourceGroupName *string) ([]rule, error) {
	if flat.IpProtocol != nil || len(flat.IpRanges) > 0 || sourceGroupName != nil {
		if flat.IpProtocol == nil {
			flat.IpProtocol = new("-1")
		}
		if sourceGroupName != nil {
			g, ok, err := groupByName(tx, sc, d.VPCID, *sourceGroupName)
			if err == nil && !ok {
				err = groupNameNotFound(*sourceGroupName, d.VPCID)
			}
			if err != nil {
				return nil, err
			}
			flat.UserIdGroupPairs = api.UserIdGroupPairList{{GroupId: new(g.ID)}}
		}
		perms = append(perms, flat)
	}
	if len(perms) == 0 {
		return nil, missingParameter("IpPermissions")
	}
	var rules []rule
	for _, p := range perms {
		proto, ok := protocols[strings.ToLower(service.Deref(p.IpProtocol))]
		if !ok {
			if n, err := strconv.Atoi(service.Deref(p.IpProtocol)); err != nil || n < 0 || n > 255 {
				return nil, invalidParameterValue("Invalid value '%s' for IP protocol. Unknown protocol.", service.Deref(p.IpProtocol))
			}
			proto = service.Deref(p.IpProtocol)
		}
		base := rule{Protocol: proto}
		if proto != "-1" {
			base.From, base.To = p.FromPort, p.ToPort
		}
		if (proto == "tcp" || proto == "udp") && (p.FromPort == nil || p.ToPort == nil) {
			return nil, invalidParameterValue("Invalid value for portRange. Must specify both from and to ports with TCP/UDP.")
		}
		add := func(r rule, description *string) {
			r.ID, r.Description = s.IDs.Resource("sgr"), service.Deref(description)
			rules = append(rules, r)
		}
		for _, ipr := range p.IpRanges {
			r := base
			r.CIDR = service.Deref(ipr.CidrIp)
			add(r, ipr.Description)
		}
		for _, ipr := range p.Ipv6Ranges {
			r := base
			r.CIDRv6 = service.Deref(ipr.CidrIpv6)
			add(r, ipr.Description)
		}
		for _, pair := range p.UserIdGroupPairs {
			r := base
			switch {
			case pair.GroupId != nil:
				if _, err := tx.Get(groupsTable, sc.Key(*pair.GroupId)); errors.Is(err, store.ErrNotFound) {
					return nil, groupNotFound(*pair.GroupId)
				}
				r.GroupID = *pair.GroupId
			case pair.GroupName != nil:
				g, ok, err := groupByName(tx, sc, d.VPCID, *pair.GroupName)
				if err == nil && !ok {
					err = groupNameNotFound(*pair.GroupName, d.VPCID)
				}
				if err != nil {
					return nil, err
				}
				r.GroupID = g.ID
			}
			add(r, pair.Description)
		}
		for _, pl := range p.PrefixListIds {
			r := base
			r.PrefixList = service.Deref(pl.PrefixListId)
			add(r, pl.Description)
		}
	}
	return rules, nil
}

// ruleText is how AWS names a rule in InvalidPermission errors.
func ruleText(r rule) string {
	peer := r.CIDR + r.CIDRv6 + r.GroupID + r.PrefixList
	proto := strings.ToUpper(r.Protocol)
	if r.Protocol == "-1" {
		return fmt.Sprintf("peer: %s, ALL, ALLOW", peer)
	}
	return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", peer, proto, derefInt(r.From), derefInt(r.To))
}

// changeRules authorizes (revoke false) or revokes rules of one direction
// of a group.
func (s *Service) changeRules(ctx context.Context, id, name *string, egress, revoke bool, perms []api.IpPermission,
	flat api.IpPermission, sourceGroupName *string, ruleIDs []string) (group, []rule, error) {
	sc := scopeOf(ctx)
	d, err := s.ensureDefaults(ctx, sc)
	if err != nil {
		return group{}, nil, err
	}
	var g group
	var changed []rule
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var version int64
		g, version, err = findGroup(tx, sc, d, id, name)
		if err != nil {
			return err
		}
		current := &g.Ingress
		if egress {
			current = &g.Egress
		}
		var requested []rule
		if !revoke || len(ruleIDs) == 0 {
			if requested, err = s.requestedRules(tx, sc, d, perms, flat, sourceGroupName); err != nil {
				return err
			}
		}
		changed = nil
		switch {
		case !revoke:
			for _, r := range requested {
				if slices.ContainsFunc(*current, r.same) || slices.ContainsFunc(changed, r.same) {
					return badRequest("InvalidPermission.Duplicate", `the specified rule "%s" already exists`, ruleText(r))
				}
				changed = append(changed, r)
			}
			*current = append(*current, changed...)
		case len(ruleIDs) > 0:
			for _, rid := range ruleIDs {
				i := slices.IndexFunc(*current, func(r rule) bool { return r.ID == rid })
				if i < 0 {
					return badRequest("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", rid)
				}
				changed = append(changed, (*current)[i])
				*current = slices.Delete(*current, i, i+1)
			}
		default:
			for _, r := range requested {
				i := slices.IndexFunc(*current, r.same)
				if i < 0 {
					return badRequest("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
				}
				changed = append(changed, (*current)[i])
				*current = slices.Delete(*current, i, i+1)
			}
		}
		_, err := store.PutJSON(tx, groupsTable, sc.Key(g.ID), g, version)
		return err
	})
	return g, changed, err
}

func securityGroupRules(sc scope, g group, egress bool, rules []rule) api.SecurityGroupRuleList {
	out := api.SecurityGroupRuleList{}
	for _, r := range rules {
		sr := api.SecurityGroupRule{SecurityGroupRuleId: new(r.ID), GroupId: new(g.ID), GroupOwnerId: new(sc.Account),
			IsEgress: new(egress), IpProtocol: new(r.Protocol), FromPort: new(derefInt(r.From)), ToPort: new(derefInt(r.To)),
			CidrIpv4: service.OmitZero(r.CIDR), CidrIpv6: service.OmitZero(r.CIDRv6), PrefixListId: service.OmitZero(r.PrefixList),
			Description: service.OmitZero(r.Description), SecurityGroupRuleArn: new(resourceARN(sc, "security-group-rule", r.ID)),
			Tags: api.TagList{}}
		if r.GroupID != "" {
			sr.ReferencedGroupInfo = &api.ReferencedSecurityGroup{GroupId: new(r.GroupID), UserId: new(sc.Account)}
		}
		out = append(out, sr)
	}
	return out
}

// AuthorizeSecurityGroupIngress adds inbound rules.
func (s *Service) AuthorizeSecurityGroupIngress(ctx context.Context, in *api.AuthorizeSecurityGroupIngressRequest) (*api.AuthorizeSecurityGroupIngressResult, error) {
	g, added, err := s.changeRules(ctx, in.GroupId, in.GroupName, false, false, in.IpPermissions, flatPermission(in.IpProtocol, in.FromPort, in.ToPort, in.CidrIp), in.SourceSecurityGroupName, nil)
	if err != nil {
		return nil, err
	}
	return &api.AuthorizeSecurityGroupIngressResult{Return: new(true), SecurityGroupRules: securityGroupRules(scopeOf(ctx), g, false, added)}, nil
}

// AuthorizeSecurityGroupEgress adds outbound rules.
func (s *Service) AuthorizeSecurityGroupEgress(ctx context.Context, in *api.AuthorizeSecurityGroupEgressRequest) (*api.AuthorizeSecurityGroupEgressResult, error) {
	g, added, err := s.changeRules(ctx, in.GroupId, nil, true, false, in.IpPermissions, flatPermission(in.IpProtocol, in.FromPort, in.ToPort, in.CidrIp), in.SourceSecurityGroupName, nil)
	if err != nil {
		return nil, err
	}
	return &api.AuthorizeSecurityGroupEgressResult{Return: new(true), SecurityGroupRules: securityGroupRules(scopeOf(ctx), g, true, added)}, nil
}

// RevokeSecurityGroupIngress removes inbound rules, by ID or by content.
func (s *Service) RevokeSecurityGroupIngress(ctx context.Context, in *api.RevokeSecurityGroupIngressRequest) (*api.RevokeSecurityGroupIngressResult, error) {
	g, removed, err := s.changeRules(ctx, in.GroupId, in.GroupName, false, true, in.IpPermissions, flatPermission(in.IpProtocol, in.FromPort, in.ToPort, in.CidrIp), in.SourceSecurityGroupName, in.SecurityGroupRuleIds)
	if err != nil {
		return nil, err
	}
	return &api.RevokeSecurityGroupIngressResult{Return: new(true), RevokedSecurityGroupRules: revokedRules(g, removed)}, nil
}

// RevokeSecurityGroupEgress removes outbound rules, by ID or by content.
func (s *Service) RevokeSecurityGroupEgress(ctx context.Context, in *api.RevokeSecurityGroupEgressRequest) (*api.RevokeSecurityGroupEgressResult, error) {
	g, removed, err := s.changeRules(ctx, in.GroupId, nil, true, true, in.IpPermissions, flatPermission(in.IpProtocol, in.FromPort, in.ToPort, in.CidrIp), in.SourceSecurityGroupName, in.SecurityGroupRuleIds)
	if err != nil {
		return nil, err
	}
	return &api.RevokeSecurityGroupEgressResult{Return: new(true), RevokedSecurityGroupRules: revokedRules(g, removed)}, nil
}

func flatPermission(protocol *string, from, to *int32, cidr *string) api.IpPermission {
	p := api.IpPermission{IpProtocol: protocol, FromPort: from, ToPort: to}
	if cidr != nil {
		p.IpRanges = api.IpRangeList{{CidrIp: cidr}}
	}
	return p
}

func revokedRules(g group, removed []rule) api.RevokedSecurityGroupRuleList {
	out := api.RevokedSecurityGroupRuleList{}
	for _, r := range removed {
		out = append(out, api.RevokedSecurityGroupRule{SecurityGroupRuleId: new(r.ID), GroupId: new(g.ID),
			IpProtocol: new(r.Protocol), FromPort: new(derefInt(r.From)), ToPort: new(derefInt(r.To)),
			CidrIpv4: service.OmitZero(r.CIDR), CidrIpv6: service.OmitZero(r.CIDRv6), PrefixListId: service.OmitZero(r.PrefixList),
			ReferencedGroupId: service.OmitZero(r.GroupID), Description: service.OmitZero(r.Description)})
	}
	return out
}
