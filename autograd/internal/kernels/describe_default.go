//go:build !purego

package kernels

const buildTag = ""
