package elbv2

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"

	api "overcast/internal/api/elbv2"
	"overcast/internal/store"
)

// Certificates is where HTTPS listeners' certificates come from (ACM).
// Without one, HTTPS listeners are refused with CertificateNotFound.
type Certificates interface {
	// Certificate returns the certificate and key an ARN names, for an
	// HTTPS listener to serve; an error when it cannot be served, best an
	// awsproto.Error with ELBv2's code (CertificateNotFound,
	// UnsupportedCertificate).
	Certificate(ctx context.Context, arn string) (*tls.Certificate, error)
	// InUse records which load balancers use which certificates
	// (certificate ARN → load balancer ARNs), the whole set each time.
	InUse(ctx context.Context, users map[string][]string) error
}

// CreateListener adds a listener to a load balancer and starts serving
// it, or returns the listener on that port when its settings are the same.
func (s *Service) CreateListener(ctx context.Context, in *api.CreateListenerInput) (*api.CreateListenerOutput, error) {
	sc := scopeOf(ctx)
	lbARN := *in.LoadBalancerArn
	if err := loadBalancerARN.check(lbARN); err != nil {
		return nil, err
	}
	l := listener{Protocol: deref(in.Protocol), Port: deref(in.Port), SslPolicy: deref(in.SslPolicy)}
	if l.Protocol == "" {
		l.Protocol = "HTTP"
	}
	if in.Port == nil {
		return nil, validation("A listener port must be specified")
	}
	if err := s.checkProtocol(ctx, &l, in.Certificates); err != nil {
		return nil, err
	}
	tags, err := tagsFrom(in.Tags)
	if err != nil {
		return nil, err
	}
	l.Tags = tags
	var result listener
	var lb loadBalancer
	err = s.updateLoadBalancerTx(ctx, lbARN, func(tx store.Tx, rec *loadBalancer) error {
		actions, err := checkActions(tx, sc, *rec, in.DefaultActions)
		if err != nil {
			return err
		}
		l.DefaultActions = actions
		if i := slices.IndexFunc(rec.Listeners, func(o listener) bool { return o.Port == l.Port }); i >= 0 {
			o := rec.Listeners[i]
			if o.Protocol != l.Protocol || !sameJSON(o.DefaultActions, l.DefaultActions) {
				return apiError("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", lbARN)
			}
			result, lb = o, *rec
			return nil
		}
		if len(rec.Listeners) >= 50 {
			return apiError("TooManyListeners", "You've reached the limit on the number of listeners per load balancer")
		}
		lbPath := strings.TrimPrefix(lbResource(lbARN), "loadbalancer/")
		id := s.newID()
		l.ARN = sc.ARN(arnService, "listener/"+lbPath+"/"+id)
		l.DefaultRuleARN = sc.ARN(arnService, "listener-rule/"+lbPath+"/"+id+"/"+s.newID())
		rec.Listeners = append(rec.Listeners, l)
		result, lb = l, *rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, sc, lb.targetGroups()...)
	return &api.CreateListenerOutput{Listeners: api.Listeners{listenerView(lb.ARN, result)}}, nil
}

func lbResource(arn string) string {
	_, res, _ := strings.Cut(arn, ":loadbalancer/")
	return "loadbalancer/" + res
}

// checkProtocol checks a listener's protocol and, for HTTPS, its
// certificate.
func (s *Service) checkProtocol(ctx context.Context, l *listener, certs api.CertificateList) error {
	switch l.Protocol {
	case "HTTP":
		l.Certificates, l.SslPolicy = nil, ""
		return nil
	case "HTTPS":
	default:
		return apiError("UnsupportedProtocol", "Protocol '%s' is not supported for Application Load Balancers; use HTTP or HTTPS", l.Protocol)
	}
	if len(certs) == 0 {
		return validation("A certificate must be specified for HTTPS listeners")
	}
	if l.SslPolicy == "" {
		l.SslPolicy = "ELBSecurityPolicy-2016-08"
	}
	l.Certificates = nil
	for _, c := range certs {
		arn := deref(c.CertificateArn)
		if s.certs == nil {
			return apiError("CertificateNotFound", "Certificate '%s' not found", arn)
		}
		if _, err := s.certs.Certificate(ctx, arn); err != nil {
			return err
		}
		l.Certificates = append(l.Certificates, arn)
	}
	return nil
}

func listenerView(lbARN string, l listener) api.Listener {
	v := api.Listener{ListenerArn: new(l.ARN), LoadBalancerArn: new(lbARN), Port: new(l.Port), Protocol: new(l.Protocol),
		DefaultActions: l.DefaultActions}
	if l.Protocol == "HTTPS" {
		v.SslPolicy = new(l.SslPolicy)
		for _, c := range l.Certificates {
			v.Certificates = append(v.Certificates, api.Certificate{CertificateArn: new(c)})
		}
	}
	return v
}

// DescribeListeners lists the listeners of a load balancer, or those
// named.
func (s *Service) DescribeListeners(ctx context.Context, in *api.DescribeListenersInput) (*api.DescribeListenersOutput, error) {
	sc := scopeOf(ctx)
	type found struct {
		lb string
		l  listener
	}
	var list []found
	switch {
	case deref(in.LoadBalancerArn) != "" && len(in.ListenerArns) > 0:
		return nil, validation("Listener ARNs and a load balancer ARN cannot be specified at the same time")
	case deref(in.LoadBalancerArn) != "":
		lb, err := s.loadBalancer(ctx, *in.LoadBalancerArn)
		if err != nil {
			return nil, err
		}
		for _, l := range lb.Listeners {
			list = append(list, found{lb.ARN, l})
		}
	case len(in.ListenerArns) > 0:
		err := s.Store.View(ctx, func(tx store.Tx) error {
			for _, arn := range in.ListenerArns {
				lb, i, err := findListener(tx, sc, arn)
				if err != nil {
					return err
				}
				list = append(list, found{lb.ARN, lb.Listeners[i]})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, validation("You must specify either listener ARNs or a load balancer ARN")
	}
	list, next, err := page(list, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeListenersOutput{Listeners: api.Listeners{}, NextMarker: next}
	for _, f := range list {
		out.Listeners = append(out.Listeners, listenerView(f.lb, f.l))
	}
	return out, nil
}

// findListener reads the load balancer a listener ARN belongs to and the
// listener's index in it.
func findListener(tx store.Tx, sc scope, arn string) (loadBalancer, int, error) {
	if err := listenerARN.check(arn); err != nil {
		return loadBalancer{}, 0, err
	}
	lb, _, err := getRecord[loadBalancer](tx, loadBalancersTable, sc, parentARN(arn), listenerNotFound(arn))
	if err != nil {
		return lb, 0, err
	}
	i := slices.IndexFunc(lb.Listeners, func(l listener) bool { return l.ARN == arn })
	if i < 0 {
		return lb, 0, listenerNotFound(arn)
	}
	return lb, i, nil
}

// ModifyListener changes a listener's port, protocol or default actions.
func (s *Service) ModifyListener(ctx context.Context, in *api.ModifyListenerInput) (*api.ModifyListenerOutput, error) {
	sc := scopeOf(ctx)
	arn := *in.ListenerArn
	if err := listenerARN.check(arn); err != nil {
		return nil, err
	}
	var result listener
	var lb loadBalancer
	var before []string
	err := s.updateListener(ctx, arn, func(tx store.Tx, rec *loadBalancer, l *listener) error {
		before = rec.targetGroups()
		if in.Port != nil && *in.Port != l.Port {
			if slices.ContainsFunc(rec.Listeners, func(o listener) bool { return o.Port == *in.Port }) {
				return validation("Listener port '%d' is already in use", *in.Port)
			}
			l.Port = *in.Port
		}
		if in.Protocol != nil || len(in.Certificates) > 0 {
			if in.Protocol != nil {
				l.Protocol = *in.Protocol
			}
			certs := in.Certificates
			if len(certs) == 0 {
				for _, c := range l.Certificates {
					certs = append(certs, api.Certificate{CertificateArn: new(c)})
				}
			}
			if err := s.checkProtocol(ctx, l, certs); err != nil {
				return err
			}
		}
		if len(in.DefaultActions) > 0 {
			actions, err := checkActions(tx, sc, *rec, in.DefaultActions)
			if err != nil {
				return err
			}
			l.DefaultActions = actions
		}
		result = *l
		lb = *rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	lb.Listeners = replaceListener(lb.Listeners, result)
	s.changed(ctx, sc, append(before, lb.targetGroups()...)...)
	return &api.ModifyListenerOutput{Listeners: api.Listeners{listenerView(lb.ARN, result)}}, nil
}

func replaceListener(ls []listener, l listener) []listener {
	for i := range ls {
		if ls[i].ARN == l.ARN {
			ls[i] = l
		}
	}
	return ls
}

// DeleteListener deletes a listener and its rules, and stops serving it.
func (s *Service) DeleteListener(ctx context.Context, in *api.DeleteListenerInput) (*api.DeleteListenerOutput, error) {
	sc := scopeOf(ctx)
	arn := *in.ListenerArn
	if err := listenerARN.check(arn); err != nil {
		return nil, err
	}
	var before []string
	err := s.updateLoadBalancerTx(ctx, parentARN(arn), func(_ store.Tx, lb *loadBalancer) error {
		before = lb.targetGroups()
		i := slices.IndexFunc(lb.Listeners, func(l listener) bool { return l.ARN == arn })
		if i < 0 {
			return listenerNotFound(arn)
		}
		lb.Listeners = slices.Delete(lb.Listeners, i, i+1)
		return nil
	})
	if isCode(err, "LoadBalancerNotFound") {
		err = listenerNotFound(arn)
	}
	if err != nil {
		return nil, err
	}
	s.changed(ctx, sc, before...)
	return &api.DeleteListenerOutput{}, nil
}

// updateLoadBalancerTx is updateLoadBalancer for changes that read other
// records in the same transaction.
func (s *Service) updateLoadBalancerTx(ctx context.Context, arn string, fn func(tx store.Tx, lb *loadBalancer) error) error {
	sc := scopeOf(ctx)
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		lb, version, err := getRecord[loadBalancer](tx, loadBalancersTable, sc, arn, loadBalancerNotFound(arn))
		if err != nil {
			return err
		}
		if err := fn(tx, &lb); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, loadBalancersTable, sc.Key(arn), lb, version)
		return err
	})
}

// updateListener runs fn on a listener in its load balancer's record.
func (s *Service) updateListener(ctx context.Context, arn string, fn func(tx store.Tx, lb *loadBalancer, l *listener) error) error {
	err := s.updateLoadBalancerTx(ctx, parentARN(arn), func(tx store.Tx, lb *loadBalancer) error {
		i := slices.IndexFunc(lb.Listeners, func(l listener) bool { return l.ARN == arn })
		if i < 0 {
			return listenerNotFound(arn)
		}
		return fn(tx, lb, &lb.Listeners[i])
	})
	if isCode(err, "LoadBalancerNotFound") {
		err = listenerNotFound(arn)
	}
	return err
}

// DescribeListenerAttributes answers for an HTTP or HTTPS listener, which
// has no attributes of its own to report (mutual TLS headers are not
// built): the Terraform AWS provider reads them on every plan.
func (s *Service) DescribeListenerAttributes(ctx context.Context, in *api.DescribeListenerAttributesInput) (*api.DescribeListenerAttributesOutput, error) {
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, _, err := findListener(tx, scopeOf(ctx), *in.ListenerArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeListenerAttributesOutput{Attributes: api.ListenerAttributes{}}, nil
}
