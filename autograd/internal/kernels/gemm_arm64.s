//go:build !purego

#include "textflag.h"

// The 8×6 NEON micro-kernel keeps the tile in 24 accumulators V0…V23
// (row r of the tile is V(3r), V(3r+1), V(3r+2), two columns each), the
// packed A column of a k step in V24…V27 (A's row r is lane r%2 of
// V(24 + r/2)), the packed B row in V28…V30, and alpha, beta in lanes 0
// and 1 of V31.
//
// Go's arm64 assembler has VFMLA only in its vector-by-vector form and no
// vector FMUL, so the by-element forms are encoded as words (Arm A64
// instruction set, "FMLA (by element)" and "FMUL (by element)", double
// precision, Q = 1, index h in bit 11, Vm in bits 16-20, Vn in 5-9, Vd in 0-4):
//
//	FMLA Vd.2D, Vn.2D, Vm.D[h]   0x4FC01000 | h<<11 | m<<16 | n<<5 | d
//	FMUL Vd.2D, Vn.2D, Vm.D[h]   0x4FC09000 | h<<11 | m<<16 | n<<5 | d
//
// `go tool objdump` of a test binary decodes every word as intended, and
// TestFusedKernels_MatchReference checks what they compute, bit for bit.
#define FMLA_ELEM(d, n, m, h) WORD $(0x4FC01000 | ((h)<<11) | ((m)<<16) | ((n)<<5) | (d))
#define FMUL_ELEM(d, n, m, h) WORD $(0x4FC09000 | ((h)<<11) | ((m)<<16) | ((n)<<5) | (d))

// One k step: acc(r, j) += a[r]·b[j], one fused multiply-add per element.
#define FMAS \
	FMLA_ELEM(0, 28, 24, 0); \
	FMLA_ELEM(1, 29, 24, 0); \
	FMLA_ELEM(2, 30, 24, 0); \
	FMLA_ELEM(3, 28, 24, 1); \
	FMLA_ELEM(4, 29, 24, 1); \
	FMLA_ELEM(5, 30, 24, 1); \
	FMLA_ELEM(6, 28, 25, 0); \
	FMLA_ELEM(7, 29, 25, 0); \
	FMLA_ELEM(8, 30, 25, 0); \
	FMLA_ELEM(9, 28, 25, 1); \
	FMLA_ELEM(10, 29, 25, 1); \
	FMLA_ELEM(11, 30, 25, 1); \
	FMLA_ELEM(12, 28, 26, 0); \
	FMLA_ELEM(13, 29, 26, 0); \
	FMLA_ELEM(14, 30, 26, 0); \
	FMLA_ELEM(15, 28, 26, 1); \
	FMLA_ELEM(16, 29, 26, 1); \
	FMLA_ELEM(17, 30, 26, 1); \
	FMLA_ELEM(18, 28, 27, 0); \
	FMLA_ELEM(19, 29, 27, 0); \
	FMLA_ELEM(20, 30, 27, 0); \
	FMLA_ELEM(21, 28, 27, 1); \
	FMLA_ELEM(22, 29, 27, 1); \
	FMLA_ELEM(23, 30, 27, 1)

// Zero the accumulators.
#define ZERO_ACC \
	VEOR V0.B16, V0.B16, V0.B16; \
	VEOR V1.B16, V1.B16, V1.B16; \
	VEOR V2.B16, V2.B16, V2.B16; \
	VEOR V3.B16, V3.B16, V3.B16; \
	VEOR V4.B16, V4.B16, V4.B16; \
	VEOR V5.B16, V5.B16, V5.B16; \
	VEOR V6.B16, V6.B16, V6.B16; \
	VEOR V7.B16, V7.B16, V7.B16; \
	VEOR V8.B16, V8.B16, V8.B16; \
	VEOR V9.B16, V9.B16, V9.B16; \
	VEOR V10.B16, V10.B16, V10.B16; \
	VEOR V11.B16, V11.B16, V11.B16; \
	VEOR V12.B16, V12.B16, V12.B16; \
	VEOR V13.B16, V13.B16, V13.B16; \
	VEOR V14.B16, V14.B16, V14.B16; \
	VEOR V15.B16, V15.B16, V15.B16; \
	VEOR V16.B16, V16.B16, V16.B16; \
	VEOR V17.B16, V17.B16, V17.B16; \
	VEOR V18.B16, V18.B16, V18.B16; \
	VEOR V19.B16, V19.B16, V19.B16; \
	VEOR V20.B16, V20.B16, V20.B16; \
	VEOR V21.B16, V21.B16, V21.B16; \
	VEOR V22.B16, V22.B16, V22.B16; \
	VEOR V23.B16, V23.B16, V23.B16

// acc = alpha·acc (alpha in lane 0 of V31), each product rounded.
#define SCALE_ACC \
	FMUL_ELEM(0, 0, 31, 0); \
	FMUL_ELEM(1, 1, 31, 0); \
	FMUL_ELEM(2, 2, 31, 0); \
	FMUL_ELEM(3, 3, 31, 0); \
	FMUL_ELEM(4, 4, 31, 0); \
	FMUL_ELEM(5, 5, 31, 0); \
	FMUL_ELEM(6, 6, 31, 0); \
	FMUL_ELEM(7, 7, 31, 0); \
	FMUL_ELEM(8, 8, 31, 0); \
	FMUL_ELEM(9, 9, 31, 0); \
	FMUL_ELEM(10, 10, 31, 0); \
	FMUL_ELEM(11, 11, 31, 0); \
	FMUL_ELEM(12, 12, 31, 0); \
	FMUL_ELEM(13, 13, 31, 0); \
	FMUL_ELEM(14, 14, 31, 0); \
	FMUL_ELEM(15, 15, 31, 0); \
	FMUL_ELEM(16, 16, 31, 0); \
	FMUL_ELEM(17, 17, 31, 0); \
	FMUL_ELEM(18, 18, 31, 0); \
	FMUL_ELEM(19, 19, 31, 0); \
	FMUL_ELEM(20, 20, 31, 0); \
	FMUL_ELEM(21, 21, 31, 0); \
	FMUL_ELEM(22, 22, 31, 0); \
	FMUL_ELEM(23, 23, 31, 0)

// Store row x, y, z at R3: c = alpha·acc.
#define STOREROW(x, y, z) \
	VST1 [x.D2, y.D2, z.D2], (R3); \
	ADD  R4, R3

// Store row x, y, z (numbers d0, d1, d2) at R3: c = fma(beta, c, alpha·acc),
// beta in lane 1 of V31.
#define UPDATEROW(d0, d1, d2, x, y, z) \
	VLD1 (R3), [V24.D2, V25.D2, V26.D2]; \
	FMLA_ELEM(d0, 24, 31, 1); \
	FMLA_ELEM(d1, 25, 31, 1); \
	FMLA_ELEM(d2, 26, 31, 1); \
	VST1 [x.D2, y.D2, z.D2], (R3); \
	ADD  R4, R3

// func kern8x6(k int, a, b, c *float64, ldc int, alpha, beta float64)
TEXT ·kern8x6(SB), NOSPLIT, $0-56
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD c+24(FP), R3
	MOVD ldc+32(FP), R4
	LSL  $3, R4
	ZERO_ACC
	CBZ  R0, store

loop:
	VLD1.P 64(R1), [V24.D2, V25.D2, V26.D2, V27.D2]
	VLD1.P 48(R2), [V28.D2, V29.D2, V30.D2]
	FMAS
	SUB  $1, R0
	CBNZ R0, loop

store:
	MOVD $alpha+40(FP), R7
	VLD1 (R7), [V31.D2]
	SCALE_ACC
	FMOVD beta+48(FP), F24
	FCMPD $(0.0), F24
	BNE   update
	STOREROW(V0, V1, V2)
	STOREROW(V3, V4, V5)
	STOREROW(V6, V7, V8)
	STOREROW(V9, V10, V11)
	STOREROW(V12, V13, V14)
	STOREROW(V15, V16, V17)
	STOREROW(V18, V19, V20)
	STOREROW(V21, V22, V23)
	RET

update:
	UPDATEROW(0, 1, 2, V0, V1, V2)
	UPDATEROW(3, 4, 5, V3, V4, V5)
	UPDATEROW(6, 7, 8, V6, V7, V8)
	UPDATEROW(9, 10, 11, V9, V10, V11)
	UPDATEROW(12, 13, 14, V12, V13, V14)
	UPDATEROW(15, 16, 17, V15, V16, V17)
	UPDATEROW(18, 19, 20, V18, V19, V20)
	UPDATEROW(21, 22, 23, V21, V22, V23)
	RET

// func kern8x6s(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)
//
// kern8x6s is kern8x6 reading A's k steps lda elements apart and B's ldb
// elements apart, so that it can run on unpacked operands.
TEXT ·kern8x6s(SB), NOSPLIT, $0-72
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD lda+16(FP), R5
	LSL  $3, R5
	MOVD b+24(FP), R2
	MOVD ldb+32(FP), R6
	LSL  $3, R6
	MOVD c+40(FP), R3
	MOVD ldc+48(FP), R4
	LSL  $3, R4
	ZERO_ACC
	CBZ  R0, sstore

sloop:
	VLD1 (R1), [V24.D2, V25.D2, V26.D2, V27.D2]
	VLD1 (R2), [V28.D2, V29.D2, V30.D2]
	ADD  R5, R1
	ADD  R6, R2
	FMAS
	SUB  $1, R0
	CBNZ R0, sloop

sstore:
	MOVD $alpha+56(FP), R7
	VLD1 (R7), [V31.D2]
	SCALE_ACC
	FMOVD beta+64(FP), F24
	FCMPD $(0.0), F24
	BNE   supdate
	STOREROW(V0, V1, V2)
	STOREROW(V3, V4, V5)
	STOREROW(V6, V7, V8)
	STOREROW(V9, V10, V11)
	STOREROW(V12, V13, V14)
	STOREROW(V15, V16, V17)
	STOREROW(V18, V19, V20)
	STOREROW(V21, V22, V23)
	RET

supdate:
	UPDATEROW(0, 1, 2, V0, V1, V2)
	UPDATEROW(3, 4, 5, V3, V4, V5)
	UPDATEROW(6, 7, 8, V6, V7, V8)
	UPDATEROW(9, 10, 11, V9, V10, V11)
	UPDATEROW(12, 13, 14, V12, V13, V14)
	UPDATEROW(15, 16, 17, V15, V16, V17)
	UPDATEROW(18, 19, 20, V18, V19, V20)
	UPDATEROW(21, 22, 23, V21, V22, V23)
	RET
