package elbv2

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	api "overcast/internal/api/elbv2"
	"overcast/internal/store"
)

// hostedZones are ALB's canonical hosted zone IDs, fixed per region.
var hostedZones = map[string]string{
	"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-1": "Z368ELLRRE2KJ0",
	"us-west-2": "Z1H1FL5HABSF5", "eu-west-1": "Z32O12XQLNTSW2", "eu-central-1": "Z215JYRZR1TBD5",
	"ap-northeast-1": "Z14GRHDCWA56QT", "ap-southeast-1": "Z1LMS91P8CMLE5", "ap-southeast-2": "Z1GM3OXH4ZPM65",
}

// dnsSuffix ends every load balancer's DNS name: curl and browsers resolve
// *.localhost to loopback, where the listeners are served.
const dnsSuffix = ".elb.localhost"

var namePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)

// checkName applies the naming rules load balancers and target groups
// share.
func checkName(name, what string) error {
	if len(name) > 32 {
		return validation("The %s name '%s' cannot be longer than '32' characters", what, name)
	}
	if !namePattern.MatchString(name) {
		return validation("The %s name '%s' can only contain characters that are alphanumeric characters and hyphens(-), and must not begin or end with a hyphen", what, name)
	}
	return nil
}

// defaultLoadBalancerAttributes are an ALB's attributes until modified;
// every key AWS knows for an ALB is here, so that anything Terraform or
// the console sends is accepted.
func defaultLoadBalancerAttributes(scheme string) map[string]string {
	return map[string]string{
		"deletion_protection.enabled":                                  "false",
		"idle_timeout.timeout_seconds":                                 "60",
		"client_keep_alive.seconds":                                    "3600",
		"routing.http2.enabled":                                        "true",
		"routing.http.desync_mitigation_mode":                          "defensive",
		"routing.http.drop_invalid_header_fields.enabled":              "false",
		"routing.http.preserve_host_header.enabled":                    "false",
		"routing.http.xff_header_processing.mode":                      "append",
		"routing.http.xff_client_port.enabled":                         "false",
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled":     "false",
		"waf.fail_open.enabled":                                        "false",
		"zonal_shift.config.enabled":                                   "false",
		"load_balancing.cross_zone.enabled":                            "true",
		"ipv6.deny_all_igw_traffic":                                    fmt.Sprint(scheme == "internal"),
		"access_logs.s3.enabled":                                       "false",
		"access_logs.s3.bucket":                                        "",
		"access_logs.s3.prefix":                                        "",
		"connection_logs.s3.enabled":                                   "false",
		"connection_logs.s3.bucket":                                    "",
		"connection_logs.s3.prefix":                                    "",
		"health_check_logs.s3.enabled":                                 "false",
		"health_check_logs.s3.bucket":                                  "",
		"health_check_logs.s3.prefix":                                  "",
		"routing.http.xff_header_processing.client_port.enabled":       "false",
		"routing.http.response.server.enabled":                         "true",
		"routing.http.response.strict_transport_security.header_value": "",
	}
}

// CreateLoadBalancer creates an application load balancer with an address
// in each of its subnets, or returns the one of that name with the same
// settings.
func (s *Service) CreateLoadBalancer(ctx context.Context, in *api.CreateLoadBalancerInput) (*api.CreateLoadBalancerOutput, error) {
	sc := scopeOf(ctx)
	name := *in.Name
	if err := checkName(name, "load balancer"); err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.ToLower(name), "internal-") {
		return nil, validation("The load balancer name '%s' cannot begin with 'internal-'", name)
	}
	if t := deref(in.Type); t != "" && t != "application" {
		return nil, validation("Load balancer type '%s' is not supported; only 'application' is", t)
	}
	scheme := deref(in.Scheme)
	if scheme == "" {
		scheme = "internet-facing"
	}
	subnetIDs := slices.Clone(in.Subnets)
	for _, m := range in.SubnetMappings {
		subnetIDs = append(subnetIDs, deref(m.SubnetId))
	}
	if len(subnetIDs) == 0 {
		return nil, validation("At least two subnets in two different Availability Zones must be specified")
	}
	tags, err := tagsFrom(in.Tags)
	if err != nil {
		return nil, err
	}
	subnets, err := s.subnets(ctx, sc, subnetIDs)
	if err != nil {
		return nil, err
	}
	groups := slices.Clone(in.SecurityGroups)
	if existing, ok, err := s.loadBalancerByName(ctx, sc, name); err != nil {
		return nil, err
	} else if ok {
		if existing.Scheme != scheme || !sameSubnets(existing, subnets) || (len(groups) > 0 && !slices.Equal(existing.SecurityGroups, groups)) {
			return nil, apiError("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
		}
		return &api.CreateLoadBalancerOutput{LoadBalancers: api.LoadBalancers{loadBalancerView(sc, existing, "active")}}, nil
	}

	id := s.newID()
	lb := loadBalancer{ARN: sc.ARN(arnService, "loadbalancer/app/"+name+"/"+id), Name: name, Scheme: scheme,
		IPAddressType: "ipv4", VPCID: subnets[0].VPCID, Created: s.Now().UTC(), SecurityGroups: groups,
		Attributes: defaultLoadBalancerAttributes(scheme), Tags: tags}
	if t := deref(in.IpAddressType); t != "" {
		lb.IPAddressType = t
	}
	lb.DNSName = strings.ToLower(name) + "-" + s.IDs.String("123456789", 1) + s.IDs.String("0123456789", 9) + "." + sc.Region + dnsSuffix
	if scheme == "internal" {
		lb.DNSName = "internal-" + lb.DNSName
	}
	for _, sn := range subnets {
		eni, err := s.network.AttachInterface(ctx, sc.Account, sc.Region, sn.ID, groups, "ELB app/"+name+"/"+id)
		if err != nil {
			s.releaseZones(ctx, sc, lb.Zones)
			if errors.Is(err, ErrSecurityGroupNotFound) {
				return nil, apiError("InvalidSecurityGroup", "One or more security groups are invalid")
			}
			return nil, err
		}
		lb.Zones = append(lb.Zones, zone{SubnetID: sn.ID, Zone: sn.AvailabilityZone, InterfaceID: eni.ID, IP: eni.PrivateIP})
	}
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if taken, err := nameTaken[loadBalancer](tx, loadBalancersTable, sc, func(l loadBalancer) bool { return l.Name == name }); err != nil || taken {
			if err == nil {
				err = apiError("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
			}
			return err
		}
		_, err := store.PutJSON(tx, loadBalancersTable, sc.Key(lb.ARN), lb, 0)
		return err
	})
	if err != nil {
		s.releaseZones(ctx, sc, lb.Zones)
		return nil, err
	}
	s.changed(ctx, sc)
	return &api.CreateLoadBalancerOutput{LoadBalancers: api.LoadBalancers{loadBalancerView(sc, lb, "provisioning")}}, nil
}

// nameTaken reports whether a record of the table in sc matches.
func nameTaken[T any](tx store.Tx, table string, sc scope, match func(T) bool) (bool, error) {
	all, err := loadAll[T](tx, table, sc)
	return slices.ContainsFunc(all, match), err
}

func sameSubnets(lb loadBalancer, subnets []Subnet) bool {
	if len(lb.Zones) != len(subnets) {
		return false
	}
	for _, sn := range subnets {
		if !slices.ContainsFunc(lb.Zones, func(z zone) bool { return z.SubnetID == sn.ID }) {
			return false
		}
	}
	return true
}

// subnets resolves a load balancer's subnets: they must exist, share a
// VPC, and cover at least two zones, one subnet each.
func (s *Service) subnets(ctx context.Context, sc scope, ids []string) ([]Subnet, error) {
	var out []Subnet
	for _, id := range ids {
		sn, err := s.network.Subnet(ctx, sc.Account, sc.Region, id)
		if errors.Is(err, ErrSubnetNotFound) {
			return nil, apiError("SubnetNotFound", "The subnet ID '%s' is not valid", id)
		}
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && sn.VPCID != out[0].VPCID {
			return nil, invalidConfiguration("The subnets '%s' and '%s' are in different VPCs", out[0].ID, id)
		}
		if slices.ContainsFunc(out, func(o Subnet) bool { return o.AvailabilityZone == sn.AvailabilityZone }) {
			return nil, invalidConfiguration("A load balancer cannot be attached to multiple subnets in the same Availability Zone")
		}
		out = append(out, sn)
	}
	if len(out) < 2 {
		return nil, validation("At least two subnets in two different Availability Zones must be specified")
	}
	return out, nil
}

func (s *Service) releaseZones(ctx context.Context, sc scope, zones []zone) {
	for _, z := range zones {
		if err := s.network.ReleaseInterface(context.WithoutCancel(ctx), sc.Account, sc.Region, z.InterfaceID); err != nil {
			s.Logger.Error("elbv2: releasing a load balancer's interface", "eni", z.InterfaceID, "err", err)
		}
	}
}

func (s *Service) loadBalancerByName(ctx context.Context, sc scope, name string) (loadBalancer, bool, error) {
	var found loadBalancer
	var ok bool
	err := s.Store.View(ctx, func(tx store.Tx) error {
		all, err := loadAll[loadBalancer](tx, loadBalancersTable, sc)
		if i := slices.IndexFunc(all, func(l loadBalancer) bool { return l.Name == name }); i >= 0 {
			found, ok = all[i], true
		}
		return err
	})
	return found, ok, err
}

func loadBalancerView(sc scope, lb loadBalancer, state string) api.LoadBalancer {
	zone := hostedZones[sc.Region]
	if zone == "" {
		zone = hostedZones["us-east-1"]
	}
	v := api.LoadBalancer{LoadBalancerArn: new(lb.ARN), DNSName: new(lb.DNSName), CanonicalHostedZoneId: new(zone),
		CreatedTime: new(lb.Created), LoadBalancerName: new(lb.Name), Scheme: new(lb.Scheme), VpcId: new(lb.VPCID),
		State: &api.LoadBalancerState{Code: new(state)}, Type: new("application"), IpAddressType: new(lb.IPAddressType),
		SecurityGroups: api.SecurityGroups(slices.Clone(lb.SecurityGroups)), AvailabilityZones: api.AvailabilityZones{}}
	if v.SecurityGroups == nil {
		v.SecurityGroups = api.SecurityGroups{}
	}
	for _, z := range lb.Zones {
		v.AvailabilityZones = append(v.AvailabilityZones, api.AvailabilityZone{ZoneName: new(z.Zone), SubnetId: new(z.SubnetID),
			LoadBalancerAddresses: api.LoadBalancerAddresses{}})
	}
	return v
}

// DescribeLoadBalancers lists load balancers, by ARN, by name or all.
func (s *Service) DescribeLoadBalancers(ctx context.Context, in *api.DescribeLoadBalancersInput) (*api.DescribeLoadBalancersOutput, error) {
	sc := scopeOf(ctx)
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, validation("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	for _, arn := range in.LoadBalancerArns {
		if err := loadBalancerARN.check(arn); err != nil {
			return nil, err
		}
	}
	var all []loadBalancer
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		all, err = loadAll[loadBalancer](tx, loadBalancersTable, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	sortByCreation(all, func(lb loadBalancer) (string, string) {
		return lb.Created.Format("2006-01-02T15:04:05.000000000"), lb.Name
	})
	list, err := selectRecords(all, in.LoadBalancerArns, in.Names,
		func(lb loadBalancer) string { return lb.ARN }, func(lb loadBalancer) string { return lb.Name },
		func(missing []string) error { return loadBalancerNotFound(missing[0]) },
		func(missing []string) error {
			return apiError("LoadBalancerNotFound", "Load balancers '[%s]' not found", strings.Join(missing, ", "))
		})
	if err != nil {
		return nil, err
	}
	list, next, err := page(list, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeLoadBalancersOutput{LoadBalancers: api.LoadBalancers{}, NextMarker: next}
	for _, lb := range list {
		out.LoadBalancers = append(out.LoadBalancers, loadBalancerView(sc, lb, "active"))
	}
	return out, nil
}

// sortByCreation orders records by a creation key, then a name.
func sortByCreation[T any](list []T, key func(T) (string, string)) {
	slices.SortStableFunc(list, func(a, b T) int {
		ka, na := key(a)
		kb, nb := key(b)
		if c := strings.Compare(ka, kb); c != 0 {
			return c
		}
		return strings.Compare(na, nb)
	})
}

// selectRecords picks the records named by ARN or by name (all when
// neither is given), failing with the error for what is missing.
func selectRecords[T any](all []T, arns, names []string, arnOf, nameOf func(T) string, arnsMissing, namesMissing func([]string) error) ([]T, error) {
	pick := func(wanted []string, of func(T) string, missing func([]string) error) ([]T, error) {
		var out []T
		var absent []string
		for _, w := range wanted {
			i := slices.IndexFunc(all, func(v T) bool { return of(v) == w })
			if i < 0 {
				absent = append(absent, w)
				continue
			}
			out = append(out, all[i])
		}
		if len(absent) > 0 {
			return nil, missing(absent)
		}
		return out, nil
	}
	switch {
	case len(arns) > 0:
		return pick(arns, arnOf, arnsMissing)
	case len(names) > 0:
		return pick(names, nameOf, namesMissing)
	}
	return all, nil
}

// DeleteLoadBalancer deletes a load balancer with its listeners and rules
// (not its target groups) and frees its addresses. A load balancer
// already gone is not an error.
func (s *Service) DeleteLoadBalancer(ctx context.Context, in *api.DeleteLoadBalancerInput) (*api.DeleteLoadBalancerOutput, error) {
	sc := scopeOf(ctx)
	arn := *in.LoadBalancerArn
	if err := loadBalancerARN.check(arn); err != nil {
		return nil, err
	}
	var lb loadBalancer
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var version int64
		var err error
		lb, version, err = getRecord[loadBalancer](tx, loadBalancersTable, sc, arn, errGone)
		if err != nil {
			return err
		}
		if lb.Attributes["deletion_protection.enabled"] == "true" {
			return apiError("OperationNotPermitted", "Load balancer '%s' cannot be deleted because deletion protection is enabled", arn)
		}
		return tx.Delete(loadBalancersTable, sc.Key(arn), version)
	})
	if errors.Is(err, errGone) {
		return &api.DeleteLoadBalancerOutput{}, nil
	}
	if err != nil {
		return nil, err
	}
	s.releaseZones(ctx, sc, lb.Zones)
	s.changed(ctx, sc, lb.targetGroups()...)
	return &api.DeleteLoadBalancerOutput{}, nil
}

// errGone marks a record a delete found already deleted.
var errGone = errors.New("elbv2: already deleted")

// DescribeLoadBalancerAttributes returns every attribute of a load
// balancer, defaults included.
func (s *Service) DescribeLoadBalancerAttributes(ctx context.Context, in *api.DescribeLoadBalancerAttributesInput) (*api.DescribeLoadBalancerAttributesOutput, error) {
	lb, err := s.loadBalancer(ctx, *in.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	return &api.DescribeLoadBalancerAttributesOutput{Attributes: loadBalancerAttributes(lb.Attributes)}, nil
}

func loadBalancerAttributes(m map[string]string) api.LoadBalancerAttributes {
	return attributeList(m, func(k, v *string) api.LoadBalancerAttribute { return api.LoadBalancerAttribute{Key: k, Value: v} })
}

// attributeList is an attribute map as the API lists it, by key.
func attributeList[T any](m map[string]string, attr func(k, v *string) T) []T {
	out := []T{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, attr(new(k), new(m[k])))
	}
	return out
}

// setAttributes applies changed attributes to m: every key must be one m
// has (what names the resource in the error), every value pass check.
func setAttributes[T any](m map[string]string, in []T, kv func(T) (*string, *string), what string, check func(k, v string) error) error {
	for _, a := range in {
		k, v := kv(a)
		if _, ok := m[deref(k)]; !ok {
			return validation("%s attribute key '%s' is not recognized", what, deref(k))
		}
		if err := check(deref(k), deref(v)); err != nil {
			return err
		}
		m[deref(k)] = deref(v)
	}
	return nil
}

func (s *Service) loadBalancer(ctx context.Context, arn string) (loadBalancer, error) {
	if err := loadBalancerARN.check(arn); err != nil {
		return loadBalancer{}, err
	}
	var lb loadBalancer
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		lb, _, err = getRecord[loadBalancer](tx, loadBalancersTable, scopeOf(ctx), arn, loadBalancerNotFound(arn))
		return err
	})
	return lb, err
}

// ModifyLoadBalancerAttributes changes attributes and returns them all.
func (s *Service) ModifyLoadBalancerAttributes(ctx context.Context, in *api.ModifyLoadBalancerAttributesInput) (*api.ModifyLoadBalancerAttributesOutput, error) {
	arn := *in.LoadBalancerArn
	if err := loadBalancerARN.check(arn); err != nil {
		return nil, err
	}
	set := func(attrs map[string]string) error {
		return setAttributes(attrs, in.Attributes, func(a api.LoadBalancerAttribute) (*string, *string) { return a.Key, a.Value },
			"Load balancer", checkLoadBalancerAttribute)
	}
	// Enabling access logs writes ELB's test file to the bucket first,
	// outside the change: S3 is another service's store.
	lb, err := s.loadBalancer(ctx, arn)
	if err != nil {
		return nil, err
	}
	if err := set(lb.Attributes); err != nil {
		return nil, err
	}
	logsAsked := slices.ContainsFunc(in.Attributes, func(a api.LoadBalancerAttribute) bool { return strings.HasPrefix(deref(a.Key), "access_logs.s3.") })
	if a := lb.Attributes; logsAsked && a["access_logs.s3.enabled"] == "true" {
		if err := s.checkLogBucket(ctx, lb, a["access_logs.s3.bucket"], a["access_logs.s3.prefix"]); err != nil {
			return nil, err
		}
	}
	var attrs map[string]string
	err = s.updateLoadBalancerTx(ctx, arn, func(_ store.Tx, lb *loadBalancer) error {
		attrs = lb.Attributes
		return set(lb.Attributes)
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, scopeOf(ctx))
	return &api.ModifyLoadBalancerAttributesOutput{Attributes: loadBalancerAttributes(attrs)}, nil
}

func checkLoadBalancerAttribute(k, v string) error {
	switch {
	case k == "idle_timeout.timeout_seconds":
		return checkRange(k, v, 1, 4000, "Load balancer")
	case k == "client_keep_alive.seconds":
		return checkRange(k, v, 60, 604800, "Load balancer")
	case k == "routing.http.xff_header_processing.mode":
		if !slices.Contains([]string{"append", "preserve", "remove"}, v) {
			return validation("Load balancer attribute '%s' must be one of 'append', 'preserve', 'remove'", k)
		}
	case strings.HasSuffix(k, ".enabled"):
		if v != "true" && v != "false" {
			return validation("Load balancer attribute '%s' must be 'true' or 'false'", k)
		}
	}
	return nil
}
