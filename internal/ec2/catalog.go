package ec2

import (
	"context"
	"slices"
	"strings"

	api "overcast/internal/api/ec2"
	"overcast/internal/service"
)

// instanceType is one row of the built-in instance type table.
type instanceType struct {
	Name       string
	VCPUs      int
	MemoryMiB  int
	Arch       []string // supported architectures, as AWS lists them
	Burstable  bool
	FreeTier   bool
	Hypervisor string
	// PreviousGeneration types are still launched but no longer current.
	PreviousGeneration bool
}

// Architecture is the architecture an instance of the type runs: the last
// one listed (t2's list is i386, x86_64; its instances are x86_64).
func (t instanceType) Architecture() string { return t.Arch[len(t.Arch)-1] }

// instanceTypes is the catalogue, by name: the current families ECS,
// Beanstalk and Auto Scaling users pick, with AWS's vCPU and memory
// figures.
var instanceTypes = buildInstanceTypes()

func buildInstanceTypes() map[string]instanceType {
	types := map[string]instanceType{}
	burstable := []struct {
		family string
		arch   []string
	}{
		{"t3", []string{"x86_64"}}, {"t3a", []string{"x86_64"}}, {"t4g", []string{"arm64"}},
	}
	// Burstable sizes: vCPUs and memory, the same in t3, t3a and t4g.
	tSizes := []struct {
		size      string
		vcpus, mb int
	}{
		{"nano", 2, 512}, {"micro", 2, 1024}, {"small", 2, 2048}, {"medium", 2, 4096},
		{"large", 2, 8192}, {"xlarge", 4, 16384}, {"2xlarge", 8, 32768},
	}
	for _, f := range burstable {
		for _, sz := range tSizes {
			name := f.family + "." + sz.size
			types[name] = instanceType{Name: name, VCPUs: sz.vcpus, MemoryMiB: sz.mb, Arch: f.arch, Burstable: true,
				FreeTier: name == "t3.micro" || name == "t4g.micro", Hypervisor: "nitro"}
		}
	}
	// t2 has one vCPU up to small, and runs 32-bit AMIs up to medium.
	for _, t := range []instanceType{
		{Name: "t2.nano", VCPUs: 1, MemoryMiB: 512}, {Name: "t2.micro", VCPUs: 1, MemoryMiB: 1024, FreeTier: true},
		{Name: "t2.small", VCPUs: 1, MemoryMiB: 2048}, {Name: "t2.medium", VCPUs: 2, MemoryMiB: 4096},
		{Name: "t2.large", VCPUs: 2, MemoryMiB: 8192}, {Name: "t2.xlarge", VCPUs: 4, MemoryMiB: 16384},
		{Name: "t2.2xlarge", VCPUs: 8, MemoryMiB: 32768},
	} {
		t.Arch, t.Burstable, t.Hypervisor = []string{"i386", "x86_64"}, true, "xen"
		if t.VCPUs > 2 || t.Name == "t2.large" {
			t.Arch = []string{"x86_64"}
		}
		types[t.Name] = t
	}
	// Fixed-performance families: memory per vCPU is the family's ratio
	// (general purpose 4 GiB, compute 2 GiB, memory 8 GiB).
	fixed := []struct {
		families  []string
		arch      string
		mibPerCPU int
	}{
		{[]string{"m5", "m5a", "m6i", "m6a", "m7i"}, "x86_64", 4096},
		{[]string{"m6g", "m7g"}, "arm64", 4096},
		{[]string{"c5", "c5a", "c6i", "c6a", "c7i"}, "x86_64", 2048},
		{[]string{"c6g", "c7g"}, "arm64", 2048},
		{[]string{"r5", "r5a", "r6i", "r6a", "r7i"}, "x86_64", 8192},
		{[]string{"r6g", "r7g"}, "arm64", 8192},
	}
	sizes := []struct {
		size  string
		vcpus int
	}{{"large", 2}, {"xlarge", 4}, {"2xlarge", 8}, {"4xlarge", 16}, {"8xlarge", 32}}
	for _, f := range fixed {
		for _, family := range f.families {
			for _, sz := range sizes {
				if family == "c5" && sz.size == "8xlarge" {
					continue // c5 goes from 4xlarge to 9xlarge
				}
				name := family + "." + sz.size
				types[name] = instanceType{Name: name, VCPUs: sz.vcpus, MemoryMiB: sz.vcpus * f.mibPerCPU,
					Arch: []string{f.arch}, Hypervisor: "nitro"}
			}
		}
	}
	// m1.small is what RunInstances launches when no type is named.
	types["m1.small"] = instanceType{Name: "m1.small", VCPUs: 1, MemoryMiB: 1740, Arch: []string{"i386", "x86_64"},
		Hypervisor: "xen", PreviousGeneration: true}
	types["c5.9xlarge"] = instanceType{Name: "c5.9xlarge", VCPUs: 36, MemoryMiB: 73728, Arch: []string{"x86_64"}, Hypervisor: "nitro"}
	return types
}

// DescribeInstanceTypes lists the catalogue.
func (s *Service) DescribeInstanceTypes(ctx context.Context, in *api.DescribeInstanceTypesRequest) (*api.DescribeInstanceTypesResult, error) {
	var list []instanceType
	var missing []string
	for _, name := range service.Distinct(in.InstanceTypes) {
		t, ok := instanceTypes[name]
		if !ok {
			missing = append(missing, name)
		}
		list = append(list, t)
	}
	if len(missing) > 0 {
		return nil, badRequest("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", strings.Join(missing, ", "))
	}
	if len(in.InstanceTypes) == 0 {
		for _, t := range instanceTypes {
			list = append(list, t)
		}
		slices.SortFunc(list, func(a, b instanceType) int { return strings.Compare(a.Name, b.Name) })
	}
	page, next, err := describe(list, instanceTypeFilters, in.Filters, in.NextToken, in.MaxResults,
		func(t instanceType) string { return t.Name }, 5, 100)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeInstanceTypesResult{NextToken: next, InstanceTypes: api.InstanceTypeInfoList{}}
	for _, t := range page {
		threads := int32(2)
		if t.VCPUs == 1 || strings.Contains(t.Arch[0], "arm64") || t.Hypervisor == "xen" {
			threads = 1
		}
		out.InstanceTypes = append(out.InstanceTypes, api.InstanceTypeInfo{InstanceType: new(t.Name),
			CurrentGeneration: new(!t.PreviousGeneration), FreeTierEligible: new(t.FreeTier), BurstablePerformanceSupported: new(t.Burstable),
			SupportedUsageClasses: api.UsageClassTypeList{"on-demand", "spot"}, SupportedRootDeviceTypes: api.RootDeviceTypeList{"ebs"},
			SupportedVirtualizationTypes: api.VirtualizationTypeList{"hvm"}, BareMetal: new(false), Hypervisor: new(t.Hypervisor),
			ProcessorInfo: &api.ProcessorInfo{SupportedArchitectures: api.ArchitectureTypeList(slices.Clone(t.Arch))},
			VCpuInfo: &api.VCpuInfo{DefaultVCpus: new(int32(t.VCPUs)), DefaultCores: new(int32(t.VCPUs) / threads),
				DefaultThreadsPerCore: new(threads)},
			MemoryInfo:               &api.MemoryInfo{SizeInMiB: new(int64(t.MemoryMiB))},
			InstanceStorageSupported: new(false), HibernationSupported: new(false), DedicatedHostsSupported: new(!t.Burstable),
			AutoRecoverySupported: new(true), SupportedInRegion: new(true)})
	}
	return out, nil
}

var instanceTypeFilters = fields[instanceType]{values: map[string]func(instanceType) any{
	"instance-type":                         func(t instanceType) any { return t.Name },
	"processor-info.supported-architecture": func(t instanceType) any { return t.Arch },
	"vcpu-info.default-vcpus":               func(t instanceType) any { return t.VCPUs },
	"memory-info.size-in-mib":               func(t instanceType) any { return t.MemoryMiB },
	"current-generation":                    func(t instanceType) any { return !t.PreviousGeneration },
	"burstable-performance-supported":       func(t instanceType) any { return t.Burstable },
	"free-tier-eligible":                    func(t instanceType) any { return t.FreeTier },
	"hypervisor":                            func(t instanceType) any { return t.Hypervisor },
	"supported-usage-class":                 always[instanceType]("on-demand", "spot"),
}}

// Image is one built-in AMI. Its ID is the same in every region: AWS's
// differ by region, but nothing reads meaning into them.
type Image struct {
	ID          string
	Name        string
	Description string
	Arch        string
	Owner       string
	Created     string
	// SSMParameter is the public parameter AWS publishes the image under
	// (what SSM's /aws/service/... parameters should answer).
	SSMParameter string
}

// amazonOwner is the account Amazon's own images belong to, as AWS reports
// it with the alias "amazon".
const amazonOwner = "137112412989"

// Images are the built-in AMIs: Amazon Linux 2023 and its ECS-optimized
// variant, for x86_64 and arm64. RunInstances takes these and no others.
var Images = []Image{
	{ID: "ami-0a7e5c31a0d1e5f01", Name: "al2023-ami-ecs-hvm-2023.0.20250101-kernel-6.1-x86_64", Arch: "x86_64",
		Description: "Amazon Linux AMI 2023.0.20250101 x86_64 ECS HVM EBS", Owner: "591542846629", Created: "2025-01-01T00:00:00.000Z",
		SSMParameter: "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"},
	{ID: "ami-0a7e5c31a0d1e5f02", Name: "al2023-ami-ecs-hvm-2023.0.20250101-kernel-6.1-arm64", Arch: "arm64",
		Description: "Amazon Linux AMI 2023.0.20250101 arm64 ECS HVM EBS", Owner: "591542846629", Created: "2025-01-01T00:00:00.000Z",
		SSMParameter: "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"},
	{ID: "ami-0a7e5c31a0d1e5f03", Name: "al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64", Arch: "x86_64",
		Description: "Amazon Linux 2023 AMI 2023.6.20250101.0 x86_64 HVM kernel-6.1", Owner: amazonOwner, Created: "2025-01-01T00:00:00.000Z",
		SSMParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"},
	{ID: "ami-0a7e5c31a0d1e5f04", Name: "al2023-ami-2023.6.20250101.0-kernel-6.1-arm64", Arch: "arm64",
		Description: "Amazon Linux 2023 AMI 2023.6.20250101.0 arm64 HVM kernel-6.1", Owner: amazonOwner, Created: "2025-01-01T00:00:00.000Z",
		SSMParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"},
}

func imageByID(id string) (Image, bool) {
	i := slices.IndexFunc(Images, func(im Image) bool { return im.ID == id })
	if i < 0 {
		return Image{}, false
	}
	return Images[i], true
}

func imageNotFound(ids []string) error {
	return badRequest("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", strings.Join(ids, ", "))
}

// DescribeImages lists the built-in AMIs.
func (s *Service) DescribeImages(ctx context.Context, in *api.DescribeImagesRequest) (*api.DescribeImagesResult, error) {
	if err := checkIDs(in.ImageIds, "ami", "InvalidAMIID.Malformed"); err != nil {
		return nil, err
	}
	var list []Image
	var missing []string
	for _, id := range service.Distinct(in.ImageIds) {
		im, ok := imageByID(id)
		if !ok {
			missing = append(missing, id)
		}
		list = append(list, im)
	}
	if len(missing) > 0 {
		return nil, imageNotFound(missing)
	}
	if len(in.ImageIds) == 0 {
		list = slices.Clone(Images)
	}
	list = slices.DeleteFunc(list, func(im Image) bool {
		return len(in.Owners) > 0 && !contains(in.Owners, "amazon") && !contains(in.Owners, im.Owner)
	})
	page, next, err := describe(list, imageFilters, in.Filters, in.NextToken, in.MaxResults, func(im Image) string { return im.ID }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeImagesResult{NextToken: next, Images: api.ImageList{}}
	for _, im := range page {
		out.Images = append(out.Images, api.Image{ImageId: new(im.ID), Name: new(im.Name), Description: new(im.Description),
			Architecture: new(im.Arch), OwnerId: new(im.Owner), ImageOwnerAlias: new("amazon"), CreationDate: new(im.Created),
			State: new("available"), Public: new(true), ImageType: new("machine"), Hypervisor: new("xen"),
			VirtualizationType: new("hvm"), RootDeviceType: new("ebs"), RootDeviceName: new("/dev/xvda"), EnaSupport: new(true),
			SriovNetSupport: new("simple"), BootMode: new("uefi-preferred"), ImdsSupport: new("v2.0"),
			PlatformDetails: new("Linux/UNIX"), UsageOperation: new("RunInstances"),
			ImageLocation: new("amazon/" + im.Name), ProductCodes: api.ProductCodeList{}, Tags: api.TagList{},
			BlockDeviceMappings: api.BlockDeviceMappingList{{DeviceName: new("/dev/xvda"), Ebs: &api.EbsBlockDevice{
				DeleteOnTermination: new(true), SnapshotId: new("snap-" + im.ID[4:]), VolumeSize: new(int32(30)),
				VolumeType: new("gp3"), Encrypted: new(false), Iops: new(int32(3000)), Throughput: new(int32(125))}}}})
	}
	return out, nil
}

var imageFilters = fields[Image]{values: map[string]func(Image) any{
	"image-id":            func(im Image) any { return im.ID },
	"name":                func(im Image) any { return im.Name },
	"description":         func(im Image) any { return im.Description },
	"architecture":        func(im Image) any { return im.Arch },
	"owner-id":            func(im Image) any { return im.Owner },
	"owner-alias":         always[Image]("amazon"),
	"state":               always[Image]("available"),
	"image-type":          always[Image]("machine"),
	"is-public":           always[Image]("true"),
	"root-device-type":    always[Image]("ebs"),
	"virtualization-type": always[Image]("hvm"),
	"platform-details":    always[Image]("Linux/UNIX"),
	"hypervisor":          always[Image]("xen"),
}}
