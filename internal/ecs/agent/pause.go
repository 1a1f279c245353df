package agent

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"time"

	"overcast/internal/docker"
)

// pauseRef is the pause image. No registry can be reached, so the agent
// makes it itself, the first time an awsvpc task needs it; the tag names
// the program's version.
const pauseRef = "overcast/ecs-pause:1"

// pauseImage returns the pause image's reference, importing it when the
// engine does not have it.
func (a *Agent) pauseImage(ctx context.Context) (string, error) {
	a.pauseMu.Lock()
	defer a.pauseMu.Unlock()
	switch ok, err := a.engine.ImageExists(ctx, pauseRef); {
	case err != nil:
		return "", err
	case ok:
		return pauseRef, nil
	}
	program, err := pauseProgram(runtime.GOARCH)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// Writing to memory cannot fail.
	tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(program)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
	tw.Write(program)
	tw.Close()
	_, err = a.engine.ImportImage(ctx, Owner, &buf, pauseRef, docker.ImageConfig{Entrypoint: []string{"/pause"}})
	return pauseRef, err
}

// pauseProgram is a static Linux executable that blocks forever and does
// nothing else: the whole of a pause container. It is a few machine
// instructions in a minimal ELF file, which no toolchain need build.
func pauseProgram(arch string) ([]byte, error) {
	var machine uint16
	var code []byte
	switch arch {
	case "amd64":
		machine = 62 // EM_X86_64
		code = []byte{
			0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
			0x0f, 0x05, // syscall
			0xeb, 0xf7, // jmp back to the mov
		}
	case "arm64":
		machine = 183 // EM_AARCH64
		// ppoll(NULL, 0, NULL, NULL): arm64 has no pause(2).
		for _, insn := range []uint32{
			0xd2800928, // movz x8, #73 (ppoll)
			0xd2800000, // movz x0, #0
			0xd2800001, // movz x1, #0
			0xd2800002, // movz x2, #0
			0xd2800003, // movz x3, #0
			0xd4000001, // svc #0
			0x17fffffa, // b back to the first movz
		} {
			code = binary.LittleEndian.AppendUint32(code, insn)
		}
	default:
		return nil, fmt.Errorf("agent: no pause program for %s", arch)
	}
	const (
		base      = 0x400000
		ehsize    = 64
		phentsize = 56
	)
	size := uint64(ehsize + phentsize + len(code))
	le := binary.LittleEndian
	b := []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little-endian */, 1 /* version */, 0 /* System V */}
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint16(b, 2) // ET_EXEC
	b = le.AppendUint16(b, machine)
	b = le.AppendUint32(b, 1)                     // EV_CURRENT
	b = le.AppendUint64(b, base+ehsize+phentsize) // entry: the code, after the headers
	b = le.AppendUint64(b, ehsize)                // program headers
	b = le.AppendUint64(b, 0)                     // no section headers
	b = le.AppendUint32(b, 0)                     // flags
	b = le.AppendUint16(b, ehsize)                // header size
	b = le.AppendUint16(b, phentsize)             // program header size
	b = le.AppendUint16(b, 1)                     // one program header
	b = le.AppendUint16(b, 64)                    // section header size
	b = le.AppendUint16(b, 0)                     // no sections
	b = le.AppendUint16(b, 0)                     // no section names
	b = le.AppendUint32(b, 1)                     // PT_LOAD
	b = le.AppendUint32(b, 5)                     // readable, executable
	b = le.AppendUint64(b, 0)                     // the whole file
	b = le.AppendUint64(b, base)                  // at base
	b = le.AppendUint64(b, base)                  //
	b = le.AppendUint64(b, size)                  // file size
	b = le.AppendUint64(b, size)                  // memory size
	b = le.AppendUint64(b, 0x1000)                // page aligned
	return append(b, code...), nil
}
