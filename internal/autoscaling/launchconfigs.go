package autoscaling

import (
	"context"
	"errors"
	"overcast"
	"slices"
	"time"

	api "overcast/internal/api/autoscaling"
	"overcast/internal/service"
	"overcast/internal/store"
)

type launchConfiguration struct {
	Name, ARN          string
	ImageID            string
	InstanceType       string
	UserData           string
	IamInstanceProfile string
	SecurityGroups     []string
	KeyName            string
	Created            time.Time
}

func (lc launchConfiguration) view() api.LaunchConfiguration {
	return api.LaunchConfiguration{LaunchConfigurationName: new(lc.Name), LaunchConfigurationARN: new(lc.ARN),
		ImageId: new(lc.ImageID), InstanceType: new(lc.InstanceType), UserData: new(lc.UserData),
		IamInstanceProfile: service.OmitZero(lc.IamInstanceProfile), KeyName: service.OmitZero(lc.KeyName),
		SecurityGroups: append(api.SecurityGroups{}, lc.SecurityGroups...), CreatedTime: new(lc.Created),
		BlockDeviceMappings: api.BlockDeviceMappings{}, ClassicLinkVPCSecurityGroups: api.ClassicLinkVPCSecurityGroups{},
		KernelId: new(""), RamdiskId: new(""), EbsOptimized: new(false),
		InstanceMonitoring: &api.InstanceMonitoring{Enabled: new(true)}}
}

// CreateLaunchConfiguration records the settings a group's instances are
// launched with.
func (s *Service) CreateLaunchConfiguration(ctx context.Context, in *api.CreateLaunchConfigurationType) error {
	sc := scopeOf(ctx)
	name := *in.LaunchConfigurationName
	if in.InstanceId != nil {
		return validationError("Creating a launch configuration from an instance is not supported; give ImageId and InstanceType")
	}
	if in.ImageId == nil {
		return validationError("ImageId must be provided.")
	}
	if in.InstanceType == nil {
		return validationError("InstanceType must be provided.")
	}
	lc := launchConfiguration{Name: name, ImageID: *in.ImageId, InstanceType: *in.InstanceType, UserData: service.Deref(in.UserData),
		IamInstanceProfile: service.Deref(in.IamInstanceProfile), SecurityGroups: slices.Clone(in.SecurityGroups),
		KeyName: service.Deref(in.KeyName), Created: s.Now().UTC(),
		ARN: launchConfigurationARN(sc, s.IDs.UUID(), name)}
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		return create(tx, launchConfigsTable, sc.Key(name), lc,
			api.NewAlreadyExistsFault("Launch Configuration by this name already exists - A launch configuration already exists with the name %s", name))
	})
}

// create writes a new item, or answers exists if key is taken.
func create(tx store.Tx, table, key string, v any, exists error) error {
	if _, err := tx.Get(table, key); err == nil {
		return exists
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	_, err := store.PutJSON(tx, table, key, v, 0)
	return err
}

// DescribeLaunchConfigurations lists the named launch configurations, or
// all of them; names that match none are left out, as AWS does.
func (s *Service) DescribeLaunchConfigurations(ctx context.Context, in *api.LaunchConfigurationNamesType) (*api.LaunchConfigurationsType, error) {
	out := &api.LaunchConfigurationsType{LaunchConfigurations: api.LaunchConfigurations{}}
	err := eachInScope(ctx, s.Store, launchConfigsTable, func(lc launchConfiguration) {
		if len(in.LaunchConfigurationNames) == 0 || slices.Contains(in.LaunchConfigurationNames, lc.Name) {
			out.LaunchConfigurations = append(out.LaunchConfigurations, lc.view())
		}
	})
	return out, err
}

// DeleteLaunchConfiguration deletes a launch configuration no group uses.
func (s *Service) DeleteLaunchConfiguration(ctx context.Context, in *api.LaunchConfigurationNameType) error {
	sc := scopeOf(ctx)
	name := *in.LaunchConfigurationName
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var lc launchConfiguration
		version, err := store.GetJSON(tx, launchConfigsTable, sc.Key(name), &lc)
		if errors.Is(err, store.ErrNotFound) {
			return launchConfigurationNotFound(name)
		} else if err != nil {
			return err
		}
		err = store.ScanJSON(tx, groupsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, g group, _ int64) error {
			if g.LaunchConfiguration == name {
				return api.NewResourceInUseFault("Cannot delete launch configuration %s because it is attached to AutoScalingGroup %s", name, g.Name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Delete(launchConfigsTable, sc.Key(name), version)
	})
}

func getLaunchConfiguration(tx store.Tx, key string) (launchConfiguration, error) {
	var lc launchConfiguration
	_, err := store.GetJSON(tx, launchConfigsTable, key, &lc)
	return lc, err
}

func launchConfigurationARN(sc overcast.Scope, uuid, name string) string {
	return sc.ARN("autoscaling", "launchConfiguration:"+uuid+":launchConfigurationName/"+name)
}
