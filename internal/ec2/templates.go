package ec2

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	api "overcast/internal/api/ec2"
	"overcast/internal/service"
	"overcast/internal/store"
)

// launchTemplatesTable holds launch templates by ID. A template has one
// version: what Auto Scaling groups launch from.
const launchTemplatesTable = "ec2.launchtemplates"

type launchTemplate struct {
	ID, Name           string
	ImageID            string
	InstanceType       string
	UserData           string // base64, as given
	ProfileName        string
	ProfileARN         string
	SecurityGroupIDs   []string
	InstanceTags       map[string]string
	Tags               map[string]string
	Created            time.Time
	CreatedBy          string
	VersionDescription string
}

func (lt launchTemplate) view() api.LaunchTemplate {
	return api.LaunchTemplate{LaunchTemplateId: new(lt.ID), LaunchTemplateName: new(lt.Name), CreateTime: new(lt.Created),
		CreatedBy: new(lt.CreatedBy), DefaultVersionNumber: new(int64(1)), LatestVersionNumber: new(int64(1)), Tags: apiTags(lt.Tags)}
}

func launchTemplateNotFound() error {
	return badRequest("InvalidLaunchTemplateName.NotFoundException",
		"At least one of the launch templates specified in the request does not exist.")
}

func launchTemplateIDNotFound(id string) error {
	return badRequest("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
}

// CreateLaunchTemplate records a template's first and only version.
func (s *Service) CreateLaunchTemplate(ctx context.Context, in *api.CreateLaunchTemplateRequest) (*api.CreateLaunchTemplateResult, error) {
	sc := scopeOf(ctx)
	data := in.LaunchTemplateData
	tags, err := specTags(in.TagSpecifications, "launch-template")
	if err != nil {
		return nil, err
	}
	lt := launchTemplate{ID: s.IDs.Resource("lt"), Name: *in.LaunchTemplateName, ImageID: service.Deref(data.ImageId),
		InstanceType: service.Deref(data.InstanceType), UserData: service.Deref(data.UserData),
		SecurityGroupIDs: slices.Clone(data.SecurityGroupIds), InstanceTags: map[string]string{}, Tags: tags,
		Created: s.Now().UTC(), CreatedBy: "arn:aws:iam::" + sc.Account + ":root", VersionDescription: service.Deref(in.VersionDescription)}
	if p := data.IamInstanceProfile; p != nil {
		lt.ProfileName, lt.ProfileARN = service.Deref(p.Name), service.Deref(p.Arn)
	}
	for _, spec := range data.TagSpecifications {
		if service.Deref(spec.ResourceType) == "instance" {
			for _, t := range spec.Tags {
				lt.InstanceTags[service.Deref(t.Key)] = service.Deref(t.Value)
			}
		}
	}
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if _, err := templateByName(tx, sc, lt.Name); err == nil {
			return badRequest("InvalidLaunchTemplateName.AlreadyExistsException",
				"Launch template name already in use.")
		} else if awsCode(err) != "InvalidLaunchTemplateName.NotFoundException" {
			return err
		}
		_, err := store.PutJSON(tx, launchTemplatesTable, sc.Key(lt.ID), lt, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	v := lt.view()
	return &api.CreateLaunchTemplateResult{LaunchTemplate: &v}, nil
}

func templateByName(tx store.Tx, sc scope, name string) (launchTemplate, error) {
	found, err := store.FilterJSON(tx, launchTemplatesTable, store.ScanOptions{Prefix: sc.Prefix()},
		func(lt launchTemplate) bool { return lt.Name == name })
	if err != nil {
		return launchTemplate{}, err
	}
	if len(found) == 0 {
		return launchTemplate{}, launchTemplateNotFound()
	}
	return found[0], nil
}

// template finds a template by ID or, without one, by name.
func template(tx store.Tx, sc scope, id, name string) (launchTemplate, error) {
	if id == "" {
		if name == "" {
			return launchTemplate{}, missingParameter("LaunchTemplateId or LaunchTemplateName")
		}
		return templateByName(tx, sc, name)
	}
	if !wellFormed(id, "lt") {
		return launchTemplate{}, malformed("InvalidLaunchTemplateId.Malformed", id, "lt")
	}
	var lt launchTemplate
	_, err := store.GetJSON(tx, launchTemplatesTable, sc.Key(id), &lt)
	if errors.Is(err, store.ErrNotFound) {
		return lt, launchTemplateIDNotFound(id)
	}
	return lt, err
}

// DescribeLaunchTemplates lists the named templates, or all of them.
func (s *Service) DescribeLaunchTemplates(ctx context.Context, in *api.DescribeLaunchTemplatesRequest) (*api.DescribeLaunchTemplatesResult, error) {
	sc := scopeOf(ctx)
	var list []launchTemplate
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if len(in.LaunchTemplateIds) == 0 && len(in.LaunchTemplateNames) == 0 {
			var err error
			list, err = store.FilterJSON[launchTemplate](tx, launchTemplatesTable, store.ScanOptions{Prefix: sc.Prefix()}, nil)
			return err
		}
		for _, id := range in.LaunchTemplateIds {
			lt, err := template(tx, sc, id, "")
			if err != nil {
				return err
			}
			list = append(list, lt)
		}
		for _, name := range in.LaunchTemplateNames {
			lt, err := template(tx, sc, "", name)
			if err != nil {
				return err
			}
			list = append(list, lt)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &api.DescribeLaunchTemplatesResult{LaunchTemplates: api.LaunchTemplateSet{}}
	for _, lt := range list {
		out.LaunchTemplates = append(out.LaunchTemplates, lt.view())
	}
	return out, nil
}

// DeleteLaunchTemplate deletes a template by ID or name.
func (s *Service) DeleteLaunchTemplate(ctx context.Context, in *api.DeleteLaunchTemplateRequest) (*api.DeleteLaunchTemplateResult, error) {
	sc := scopeOf(ctx)
	var lt launchTemplate
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var err error
		if lt, err = template(tx, sc, service.Deref(in.LaunchTemplateId), service.Deref(in.LaunchTemplateName)); err != nil {
			return err
		}
		return tx.Delete(launchTemplatesTable, sc.Key(lt.ID), store.AnyVersion)
	})
	if err != nil {
		return nil, err
	}
	v := lt.view()
	return &api.DeleteLaunchTemplateResult{LaunchTemplate: &v}, nil
}

// LaunchTemplateInfo is a launch template as other services (Auto
// Scaling) see it.
type LaunchTemplateInfo struct {
	ID, Name, ImageID, InstanceType string
	UserData                        string // base64
	ProfileName, ProfileARN         string
	SecurityGroupIDs                []string
	InstanceTags                    map[string]string
}

// ErrLaunchTemplateNotFound is LaunchTemplate's error for a template that
// does not exist.
var ErrLaunchTemplateNotFound = errors.New("ec2: launch template not found")

// LaunchTemplate returns a template of account's region by ID or name.
func (s *Service) LaunchTemplate(ctx context.Context, account, region, id, name string) (LaunchTemplateInfo, error) {
	sc := scope{Account: account, Region: region}
	var lt launchTemplate
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		lt, err = template(tx, sc, id, name)
		return err
	})
	if code := awsCode(err); code != "" && code != "MissingParameter" {
		return LaunchTemplateInfo{}, ErrLaunchTemplateNotFound
	} else if err != nil {
		return LaunchTemplateInfo{}, err
	}
	return LaunchTemplateInfo{ID: lt.ID, Name: lt.Name, ImageID: lt.ImageID, InstanceType: lt.InstanceType, UserData: lt.UserData,
		ProfileName: lt.ProfileName, ProfileARN: lt.ProfileARN, SecurityGroupIDs: slices.Clone(lt.SecurityGroupIDs),
		InstanceTags: maps.Clone(lt.InstanceTags)}, nil
}
