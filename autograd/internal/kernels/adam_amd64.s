//go:build !purego

#include "textflag.h"

// AdamStep's loop (adam.go), 4 or 8 lanes at a time, with exactly the
// loop's operations: a separate multiply and add wherever the loop has them
// (never an FMA), and the correctly rounded VSQRTPD and VDIVPD.
//
// Registers: SI param, DX grad, R8 m, R9 v, CX elements left, AX &AdamParams;
// the scalars broadcast into C1 .. L2.

// ADAMBODY(MOV, L2ON, P, G, M, V, T1, T2, C1, B2, C2, SS, BC, EPS, L2)
// updates one vector of elements (L2ON is L2YES or L2NO).
//
//	g  = grad                      (+ L2·param when L2ON)
//	m  = m + C1·(g − m)
//	v  = B2·v + (C2·g)·g
//	param = param − (SS·m) / (√v / BC + EPS)
#define ADAMBODY(MOV, L2ON, P, G, M, V, T1, T2, C1, B2, C2, SS, BC, EPS, L2) \
	MOV     (DX), G; \
	MOV     (SI), P; \
	L2ON(P, G, T1, L2); \
	MOV     (R8), M; \
	VSUBPD  M, G, T1; \
	VMULPD  T1, C1, T1; \
	VADDPD  T1, M, M; \
	MOV     M, (R8); \
	MOV     (R9), V; \
	VMULPD  V, B2, V; \
	VMULPD  G, C2, T1; \
	VMULPD  G, T1, T1; \
	VADDPD  T1, V, V; \
	MOV     V, (R9); \
	VSQRTPD V, T2; \
	VDIVPD  BC, T2, T2; \
	VADDPD  EPS, T2, T2; \
	VMULPD  M, SS, T1; \
	VDIVPD  T2, T1, T1; \
	VSUBPD  T1, P, P; \
	MOV     P, (SI)

#define L2YES(P, G, T, L2) \
	VMULPD P, L2, T; \
	VADDPD T, G, G

#define L2NO(P, G, T, L2)

#define ADVANCE(bytes, lanes) \
	ADDQ $bytes, SI; \
	ADDQ $bytes, DX; \
	ADDQ $bytes, R8; \
	ADDQ $bytes, R9; \
	SUBQ $lanes, CX

#define LOADARGS \
	MOVQ param+0(FP), SI; \
	MOVQ grad+8(FP), DX; \
	MOVQ m+16(FP), R8; \
	MOVQ v+24(FP), R9; \
	MOVQ n+32(FP), CX; \
	MOVQ p+40(FP), AX

// func adamAVX2(param, grad, m, v *float64, n int, p *AdamParams)
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	LOADARGS
	VBROADCASTSD 0(AX), Y15  // C1
	VBROADCASTSD 8(AX), Y14  // β₂
	VBROADCASTSD 16(AX), Y13 // C2
	VBROADCASTSD 24(AX), Y12 // step size
	VBROADCASTSD 32(AX), Y11 // √(1 − β₂ᵏ)
	VBROADCASTSD 40(AX), Y10 // ε
	VBROADCASTSD 48(AX), Y9  // λ
	TESTQ        CX, CX
	JZ           done2
	MOVQ         48(AX), BX
	SHLQ         $1, BX      // drop the sign: −0 counts as 0
	JNZ          l2loop2

loop2:
	ADAMBODY(VMOVUPD, L2NO, Y0, Y1, Y2, Y3, Y4, Y5, Y15, Y14, Y13, Y12, Y11, Y10, Y9)
	ADVANCE(32, 4)
	JNZ loop2
	JMP done2

l2loop2:
	ADAMBODY(VMOVUPD, L2YES, Y0, Y1, Y2, Y3, Y4, Y5, Y15, Y14, Y13, Y12, Y11, Y10, Y9)
	ADVANCE(32, 4)
	JNZ l2loop2

done2:
	VZEROUPPER
	RET

// func adamAVX512(param, grad, m, v *float64, n int, p *AdamParams)
TEXT ·adamAVX512(SB), NOSPLIT, $0-48
	LOADARGS
	VBROADCASTSD 0(AX), Z31
	VBROADCASTSD 8(AX), Z30
	VBROADCASTSD 16(AX), Z29
	VBROADCASTSD 24(AX), Z28
	VBROADCASTSD 32(AX), Z27
	VBROADCASTSD 40(AX), Z26
	VBROADCASTSD 48(AX), Z25
	TESTQ        CX, CX
	JZ           done8
	MOVQ         48(AX), BX
	SHLQ         $1, BX
	JNZ          l2loop8

loop8:
	ADAMBODY(VMOVUPD, L2NO, Z0, Z1, Z2, Z3, Z4, Z5, Z31, Z30, Z29, Z28, Z27, Z26, Z25)
	ADVANCE(64, 8)
	JNZ loop8
	JMP done8

l2loop8:
	ADAMBODY(VMOVUPD, L2YES, Z0, Z1, Z2, Z3, Z4, Z5, Z31, Z30, Z29, Z28, Z27, Z26, Z25)
	ADVANCE(64, 8)
	JNZ l2loop8

done8:
	VZEROUPPER
	RET
