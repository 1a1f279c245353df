package placement

import "strings"

// A ranker scores an instance under one strategy; lower places first.
type ranker interface {
	score(*Instance) int
}

// binpackCPU and binpackMemory score the resource left after the task:
// the fullest instance that still fits places first.
type binpackCPU struct{ task int }
type binpackMemory struct{ task int }

func (b binpackCPU) score(inst *Instance) int    { return inst.RemainingCPU - b.task }
func (b binpackMemory) score(inst *Instance) int { return inst.RemainingMemory - b.task }

// spreadInstance scores the group's tasks on the instance.
type spreadInstance struct{ group string }

func (s spreadInstance) score(inst *Instance) int { return inst.Groups[s.group] }

// spreadAttribute scores the group's tasks on all instances sharing the
// instance's value of the attribute (its Availability Zone, say).
type spreadAttribute struct {
	name    string
	buckets map[string]int
}

func (s spreadAttribute) score(inst *Instance) int { return s.buckets[bucketOf(inst, s.name)] }

// missingBucket holds the instances without the spread attribute; they
// form one more value to balance against.
const missingBucket = "\x00missing"

func bucketOf(inst *Instance, attribute string) string {
	if v, ok := inst.Attributes[attribute]; ok {
		return v
	}
	return missingBucket
}

// newRankers turns strategies into rankers. A random strategy ends the
// chain: later strategies could only break ties random already breaks.
// Unknown strategies (ValidateStrategies refuses them) rank nothing.
func newRankers(strategies []Strategy, task Task, s *state) ([]ranker, []map[string]int) {
	var rankers []ranker
	var buckets []map[string]int
	for _, st := range strategies {
		if len(rankers) == maxStrategies {
			break
		}
		var r ranker
		var b map[string]int
		switch st.Type {
		case StrategyRandom:
			return rankers, buckets
		case StrategyBinpack:
			switch strings.ToLower(st.Field) {
			case FieldCPU:
				r = binpackCPU{task.CPU}
			case FieldMemory:
				r = binpackMemory{task.Memory}
			}
		case StrategySpread:
			switch field := st.Field; {
			case field == FieldInstanceID || field == FieldHost:
				r = spreadInstance{s.group}
			case strings.HasPrefix(field, attributePrefix):
				name := strings.TrimPrefix(field, attributePrefix)
				b = map[string]int{}
				for i := range s.candidates {
					// Most instances run none of the group: a missing key
					// reads as 0, so only the others are written.
					inst := s.candidates[i].cur
					if len(inst.Groups) == 0 {
						continue
					}
					if n := inst.Groups[s.group]; n != 0 {
						b[bucketOf(inst, name)] += n
					}
				}
				r = spreadAttribute{name: name, buckets: b}
			}
		}
		if r != nil {
			rankers = append(rankers, r)
			buckets = append(buckets, b)
		}
	}
	return rankers, buckets
}

const attributePrefix = "attribute:"
