package cpu

import (
	"io/fs"
	"strconv"
	"strings"
)

// sysfsCaches reads the data and unified caches that Linux lists under
// /sys/devices/system/cpu/cpu0/cache (dir is that folder): in index0,
// index1, … the files level, type ("Data", "Instruction", "Unified"), size
// ("48K"), ways_of_associativity and coherency_line_size. It returns nil
// when the folder is missing or unreadable (TestSysfsCaches).
func sysfsCaches(dir fs.FS) []Cache {
	var out []Cache
	for i := 0; i < 16; i++ {
		read := func(name string) string {
			b, err := fs.ReadFile(dir, "index"+strconv.Itoa(i)+"/"+name)
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		typ := read("type")
		if typ == "" {
			break
		}
		if typ == "Instruction" {
			continue
		}
		level, err := strconv.Atoi(read("level"))
		size := parseSize(read("size"))
		if err != nil || size <= 0 {
			continue
		}
		ways, _ := strconv.Atoi(read("ways_of_associativity"))
		line, _ := strconv.Atoi(read("coherency_line_size"))
		out = append(out, Cache{Level: level, Bytes: size, Ways: ways, LineBytes: line})
	}
	return out
}

// parseSize reads sysfs's "48K", "1024K", "32M" or a plain byte count; -1
// if it cannot.
func parseSize(s string) int {
	mul := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mul, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n * mul
}
