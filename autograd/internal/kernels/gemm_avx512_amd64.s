//go:build !purego

#include "textflag.h"

// One k step of the 16×8 AVX-512 micro-kernel: the packed B row (8 values,
// one zmm) at BX+bo into ZB, then sixteen FMAs, one per row r of the tile,
// each broadcasting A's value a[r] from AX+ao+8r: Z(r) += a[r]·B row.
#define STEP16(ao, bo, ZB) \
	VMOVUPD          (bo)(BX), ZB; \
	VFMADD231PD.BCST (ao)(AX), ZB, Z0; \
	VFMADD231PD.BCST (ao+8)(AX), ZB, Z1; \
	VFMADD231PD.BCST (ao+16)(AX), ZB, Z2; \
	VFMADD231PD.BCST (ao+24)(AX), ZB, Z3; \
	VFMADD231PD.BCST (ao+32)(AX), ZB, Z4; \
	VFMADD231PD.BCST (ao+40)(AX), ZB, Z5; \
	VFMADD231PD.BCST (ao+48)(AX), ZB, Z6; \
	VFMADD231PD.BCST (ao+56)(AX), ZB, Z7; \
	VFMADD231PD.BCST (ao+64)(AX), ZB, Z8; \
	VFMADD231PD.BCST (ao+72)(AX), ZB, Z9; \
	VFMADD231PD.BCST (ao+80)(AX), ZB, Z10; \
	VFMADD231PD.BCST (ao+88)(AX), ZB, Z11; \
	VFMADD231PD.BCST (ao+96)(AX), ZB, Z12; \
	VFMADD231PD.BCST (ao+104)(AX), ZB, Z13; \
	VFMADD231PD.BCST (ao+112)(AX), ZB, Z14; \
	VFMADD231PD.BCST (ao+120)(AX), ZB, Z15

#define ZERO16 \
	VPXORQ Z0, Z0, Z0; \
	VPXORQ Z1, Z1, Z1; \
	VPXORQ Z2, Z2, Z2; \
	VPXORQ Z3, Z3, Z3; \
	VPXORQ Z4, Z4, Z4; \
	VPXORQ Z5, Z5, Z5; \
	VPXORQ Z6, Z6, Z6; \
	VPXORQ Z7, Z7, Z7; \
	VPXORQ Z8, Z8, Z8; \
	VPXORQ Z9, Z9, Z9; \
	VPXORQ Z10, Z10, Z10; \
	VPXORQ Z11, Z11, Z11; \
	VPXORQ Z12, Z12, Z12; \
	VPXORQ Z13, Z13, Z13; \
	VPXORQ Z14, Z14, Z14; \
	VPXORQ Z15, Z15, Z15

// Scale the sixteen accumulators by alpha in Z16.
#define SCALE16 \
	VMULPD Z16, Z0, Z0; \
	VMULPD Z16, Z1, Z1; \
	VMULPD Z16, Z2, Z2; \
	VMULPD Z16, Z3, Z3; \
	VMULPD Z16, Z4, Z4; \
	VMULPD Z16, Z5, Z5; \
	VMULPD Z16, Z6, Z6; \
	VMULPD Z16, Z7, Z7; \
	VMULPD Z16, Z8, Z8; \
	VMULPD Z16, Z9, Z9; \
	VMULPD Z16, Z10, Z10; \
	VMULPD Z16, Z11, Z11; \
	VMULPD Z16, Z12, Z12; \
	VMULPD Z16, Z13, Z13; \
	VMULPD Z16, Z14, Z14; \
	VMULPD Z16, Z15, Z15

// Row stores at DI, advancing by DX bytes: c = acc, or c = acc + beta·c
// (one FMA; beta in Z17).
#define STORE(Z) \
	VMOVUPD Z, (DI); \
	ADDQ    DX, DI

#define UPDATE(Z) \
	VFMADD231PD (DI), Z17, Z; \
	VMOVUPD     Z, (DI); \
	ADDQ        DX, DI

#define STORE16 \
	STORE(Z0); STORE(Z1); STORE(Z2); STORE(Z3); \
	STORE(Z4); STORE(Z5); STORE(Z6); STORE(Z7); \
	STORE(Z8); STORE(Z9); STORE(Z10); STORE(Z11); \
	STORE(Z12); STORE(Z13); STORE(Z14); STORE(Z15)

#define UPDATE16 \
	UPDATE(Z0); UPDATE(Z1); UPDATE(Z2); UPDATE(Z3); \
	UPDATE(Z4); UPDATE(Z5); UPDATE(Z6); UPDATE(Z7); \
	UPDATE(Z8); UPDATE(Z9); UPDATE(Z10); UPDATE(Z11); \
	UPDATE(Z12); UPDATE(Z13); UPDATE(Z14); UPDATE(Z15)

// func kern16x8(k int, a, b, c *float64, ldc int, alpha, beta float64)
TEXT ·kern16x8(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), DX
	SHLQ $3, DX
	ZERO16

	MOVQ CX, R8
	SHRQ $2, R8
	JZ   tail

loop4:
	STEP16(0, 0, Z16)
	STEP16(128, 64, Z17)
	STEP16(256, 128, Z16)
	STEP16(384, 192, Z17)
	ADDQ $512, AX
	ADDQ $256, BX
	DECQ R8
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP16(0, 0, Z16)
	ADDQ $128, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSD alpha+40(FP), Z16
	SCALE16
	MOVQ beta+48(FP), R11
	SHLQ $1, R11 // drop the sign: −0 is 0 too; NaN is not
	JNZ  update
	STORE16
	VZEROUPPER
	RET

update:
	VBROADCASTSD beta+48(FP), Z17
	UPDATE16
	VZEROUPPER
	RET

// func kern16x8s(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)
//
// kern16x8s is kern16x8 reading A's k steps lda elements apart and B's ldb
// elements apart, so that it can run on unpacked operands.
TEXT ·kern16x8s(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), R9
	SHLQ $3, R9
	MOVQ b+24(FP), BX
	MOVQ ldb+32(FP), R10
	SHLQ $3, R10
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), DX
	SHLQ $3, DX
	ZERO16

sloop:
	STEP16(0, 0, Z16)
	ADDQ R9, AX
	ADDQ R10, BX
	DECQ CX
	JNZ  sloop

	VBROADCASTSD alpha+56(FP), Z16
	SCALE16
	MOVQ beta+64(FP), R11
	SHLQ $1, R11 // drop the sign: −0 is 0 too; NaN is not
	JNZ  supdate
	STORE16
	VZEROUPPER
	RET

supdate:
	VBROADCASTSD beta+64(FP), Z17
	UPDATE16
	VZEROUPPER
	RET
