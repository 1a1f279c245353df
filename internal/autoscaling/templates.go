package autoscaling

import (
	"context"
	"errors"
	"fmt"

	api "overcast/internal/api/autoscaling"
	"overcast/internal/service"
	"overcast/internal/store"
)

// LaunchTemplate is an EC2 launch template as a group launches from it:
// its settings, less the placement the group chooses.
type LaunchTemplate struct {
	ID, Name string
	Settings Launch
}

// ErrLaunchTemplateNotFound is what EC2's LaunchTemplate returns (wrapped)
// for a template that does not exist.
var ErrLaunchTemplateNotFound = errors.New("autoscaling: launch template not found")

// templateRef is a group's or an instance's launch template.
type templateRef struct{ ID, Name, Version string }

func (r *templateRef) view() *api.LaunchTemplateSpecification {
	if r == nil {
		return nil
	}
	return &api.LaunchTemplateSpecification{LaunchTemplateId: new(r.ID), LaunchTemplateName: new(r.Name), Version: new(r.Version)}
}

// resolveTemplate checks a launch template specification against EC2,
// whose templates have one version.
func (s *Service) resolveTemplate(ctx context.Context, spec *api.LaunchTemplateSpecification) (*templateRef, error) {
	sc := scopeOf(ctx)
	version := service.Deref(spec.Version)
	switch version {
	case "":
		version = "$Default"
	case "$Default", "$Latest", "1":
	default:
		return nil, validationError("You must use a valid fully-formed launch template. The specified launch template version %s does not exist.", version)
	}
	lt, err := s.ec2.LaunchTemplate(ctx, sc.Account, sc.Region, service.Deref(spec.LaunchTemplateId), service.Deref(spec.LaunchTemplateName))
	if errors.Is(err, ErrLaunchTemplateNotFound) {
		return nil, validationError("You must use a valid fully-formed launch template. The specified launch template does not exist.")
	} else if err != nil {
		return nil, err
	}
	if lt.Settings.ImageID == "" {
		return nil, validationError("You must use a valid fully-formed launch template. The request must contain the parameter ImageId")
	}
	return &templateRef{ID: lt.ID, Name: lt.Name, Version: version}, nil
}

// launchSettings are what the group's next instance is launched with,
// from its launch template or configuration.
func (s *Service) launchSettings(ctx context.Context, g group) (Launch, error) {
	sc := scopeOf(ctx)
	if r := g.LaunchTemplate; r != nil {
		lt, err := s.ec2.LaunchTemplate(ctx, sc.Account, sc.Region, r.ID, "")
		if err != nil {
			return Launch{}, fmt.Errorf("group %s: launch template %s: %w", g.Name, r.ID, err)
		}
		return lt.Settings, nil
	}
	var lc launchConfiguration
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		lc, err = getLaunchConfiguration(tx, sc.Key(g.LaunchConfiguration))
		return err
	})
	if err != nil {
		return Launch{}, fmt.Errorf("group %s: launch configuration %s: %w", g.Name, g.LaunchConfiguration, err)
	}
	return Launch{ImageID: lc.ImageID, InstanceType: lc.InstanceType, UserData: lc.UserData, IamInstanceProfile: lc.IamInstanceProfile,
		SecurityGroups: lc.SecurityGroups}, nil
}
