//go:build unix

package placement

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
)

// benchCluster returns n instances over three zones and four instance
// types, with varied free memory and some tasks of the group running.
func benchCluster(n int) []*Instance {
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	types := []string{"t2.medium", "m5.large", "c5.xlarge", "g2.2xlarge"}
	out := make([]*Instance, n)
	for i := range out {
		inst := newInstance(fmt.Sprintf("%05d", i), zones[i%3], types[i%4], 4096, 16384)
		inst.RemainingCPU = 512 + i%8*256
		inst.RemainingMemory = 1024 + i%16*512
		inst.UsedPorts = []Port{{Number: 22}, {Number: 51678}, {Number: 51679}}
		if i%5 == 0 {
			running(inst, "service:web", 1+i%3)
		}
		out[i] = inst
	}
	return out
}

func benchTask() Task {
	return Task{
		CPU: 256, Memory: 512, Group: "service:web", NetworkMode: "bridge",
		Ports:              []Port{{Number: 8080}},
		RequiredAttributes: []Attribute{{Name: "ecs.os-type", Value: "linux"}},
		Constraints:        []Constraint{{Type: ConstraintMemberOf, Expression: "(attribute:ecs.instance-type =~ t2.* or attribute:ecs.instance-type =~ m5.*) and not(task:group == databases)"}},
		Strategies: []Strategy{
			{Type: StrategySpread, Field: "attribute:ecs.availability-zone"},
			{Type: StrategyBinpack, Field: FieldMemory},
		},
	}
}

// BenchmarkPlaceOneOf10000 places one task over 10,000 instances with a
// memberOf constraint, spread over zones then binpack on memory.
func BenchmarkPlaceOneOf10000(b *testing.B) {
	benchmarkPlace(b, 10000, 1)
}

// BenchmarkPlaceTenOf1000 places ten tasks over 1,000 instances, same
// constraint and strategies.
func BenchmarkPlaceTenOf1000(b *testing.B) {
	benchmarkPlace(b, 1000, 10)
}

func benchmarkPlace(b *testing.B, instances, count int) {
	cluster := benchCluster(instances)
	task := benchTask()
	rnd := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		got, failures, err := Place(cluster, task, count, rnd)
		if err != nil || len(got) != count {
			b.Fatalf("placed %d of %d: %v %v", len(got), count, failures, err)
		}
	}
	// ns/op is wall time, which on a shared machine counts the time other
	// processes hold the CPU; cpu-ns/op is the CPU this process used.
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// processCPU returns the user and system CPU time of the process, in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
