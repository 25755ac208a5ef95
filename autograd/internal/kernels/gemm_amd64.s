//go:build !purego

#include "textflag.h"

// One k step of the 6×8 micro-kernel: two vectors of the packed B row at
// BX+bo, six broadcasts of the packed A column at AX+ao, twelve FMAs into
// the accumulators Y0…Y11 (row r of the tile is Y(2r), Y(2r+1)).
#define STEP(ao, bo) \
	VMOVUPD      (bo)(BX), Y12; \
	VMOVUPD      (bo+32)(BX), Y13; \
	VBROADCASTSD (ao)(AX), Y14; \
	VFMADD231PD  Y12, Y14, Y0; \
	VFMADD231PD  Y13, Y14, Y1; \
	VBROADCASTSD (ao+8)(AX), Y15; \
	VFMADD231PD  Y12, Y15, Y2; \
	VFMADD231PD  Y13, Y15, Y3; \
	VBROADCASTSD (ao+16)(AX), Y14; \
	VFMADD231PD  Y12, Y14, Y4; \
	VFMADD231PD  Y13, Y14, Y5; \
	VBROADCASTSD (ao+24)(AX), Y15; \
	VFMADD231PD  Y12, Y15, Y6; \
	VFMADD231PD  Y13, Y15, Y7; \
	VBROADCASTSD (ao+32)(AX), Y14; \
	VFMADD231PD  Y12, Y14, Y8; \
	VFMADD231PD  Y13, Y14, Y9; \
	VBROADCASTSD (ao+40)(AX), Y15; \
	VFMADD231PD  Y12, Y15, Y10; \
	VFMADD231PD  Y13, Y15, Y11

// Store row (lo, hi) of the tile at DI: c = acc (accumulators already scaled by alpha).
#define STOREROW(lo, hi) \
	VMOVUPD lo, (DI); \
	VMOVUPD hi, 32(DI); \
	ADDQ    DX, DI

// Store row (lo, hi) of the tile at DI: c = acc + beta·c, beta in Y13.
#define UPDATEROW(lo, hi) \
	VFMADD231PD (DI), Y13, lo; \
	VFMADD231PD 32(DI), Y13, hi; \
	VMOVUPD     lo, (DI); \
	VMOVUPD     hi, 32(DI); \
	ADDQ        DX, DI

// Zero the accumulators.
#define ZERO_ACC \
	VXORPD Y0, Y0, Y0; \
	VXORPD Y1, Y1, Y1; \
	VXORPD Y2, Y2, Y2; \
	VXORPD Y3, Y3, Y3; \
	VXORPD Y4, Y4, Y4; \
	VXORPD Y5, Y5, Y5; \
	VXORPD Y6, Y6, Y6; \
	VXORPD Y7, Y7, Y7; \
	VXORPD Y8, Y8, Y8; \
	VXORPD Y9, Y9, Y9; \
	VXORPD Y10, Y10, Y10; \
	VXORPD Y11, Y11, Y11

// func kern6x8(k int, a, b, c *float64, ldc int, alpha, beta float64)
TEXT ·kern6x8(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), DX
	SHLQ $3, DX
	ZERO_ACC

	MOVQ CX, R8
	SHRQ $2, R8
	JZ   tail

loop4:
	STEP(0, 0)
	STEP(48, 64)
	STEP(96, 128)
	STEP(144, 192)
	ADDQ $192, AX
	ADDQ $256, BX
	DECQ R8
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP(0, 0)
	ADDQ $48, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSD alpha+40(FP), Y12
	VMULPD       Y12, Y0, Y0
	VMULPD       Y12, Y1, Y1
	VMULPD       Y12, Y2, Y2
	VMULPD       Y12, Y3, Y3
	VMULPD       Y12, Y4, Y4
	VMULPD       Y12, Y5, Y5
	VMULPD       Y12, Y6, Y6
	VMULPD       Y12, Y7, Y7
	VMULPD       Y12, Y8, Y8
	VMULPD       Y12, Y9, Y9
	VMULPD       Y12, Y10, Y10
	VMULPD       Y12, Y11, Y11

	MOVSD   beta+48(FP), X13
	VXORPD  X14, X14, X14
	UCOMISD X14, X13
	JNE     update
	JPS     update

	STOREROW(Y0, Y1)
	STOREROW(Y2, Y3)
	STOREROW(Y4, Y5)
	STOREROW(Y6, Y7)
	STOREROW(Y8, Y9)
	STOREROW(Y10, Y11)
	VZEROUPPER
	RET

update:
	VBROADCASTSD beta+48(FP), Y13
	UPDATEROW(Y0, Y1)
	UPDATEROW(Y2, Y3)
	UPDATEROW(Y4, Y5)
	UPDATEROW(Y6, Y7)
	UPDATEROW(Y8, Y9)
	UPDATEROW(Y10, Y11)
	VZEROUPPER
	RET

// func kern6x8s(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)
//
// kern6x8s is kern6x8 reading A's k steps lda elements apart and B's ldb
// elements apart, so that it can run on unpacked operands.
TEXT ·kern6x8s(SB), NOSPLIT, $0-72
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
	ZERO_ACC

	MOVQ CX, R8
	SHRQ $2, R8
	JZ   stail

sloop4:
	STEP(0, 0)
	ADDQ R9, AX
	ADDQ R10, BX
	STEP(0, 0)
	ADDQ R9, AX
	ADDQ R10, BX
	STEP(0, 0)
	ADDQ R9, AX
	ADDQ R10, BX
	STEP(0, 0)
	ADDQ R9, AX
	ADDQ R10, BX
	DECQ R8
	JNZ  sloop4

stail:
	ANDQ $3, CX
	JZ   sstore

sloop1:
	STEP(0, 0)
	ADDQ R9, AX
	ADDQ R10, BX
	DECQ CX
	JNZ  sloop1

sstore:
	VBROADCASTSD alpha+56(FP), Y12
	VMULPD       Y12, Y0, Y0
	VMULPD       Y12, Y1, Y1
	VMULPD       Y12, Y2, Y2
	VMULPD       Y12, Y3, Y3
	VMULPD       Y12, Y4, Y4
	VMULPD       Y12, Y5, Y5
	VMULPD       Y12, Y6, Y6
	VMULPD       Y12, Y7, Y7
	VMULPD       Y12, Y8, Y8
	VMULPD       Y12, Y9, Y9
	VMULPD       Y12, Y10, Y10
	VMULPD       Y12, Y11, Y11

	MOVSD   beta+64(FP), X13
	VXORPD  X14, X14, X14
	UCOMISD X14, X13
	JNE     update
	JPS     update

	STOREROW(Y0, Y1)
	STOREROW(Y2, Y3)
	STOREROW(Y4, Y5)
	STOREROW(Y6, Y7)
	STOREROW(Y8, Y9)
	STOREROW(Y10, Y11)
	VZEROUPPER
	RET

update:
	VBROADCASTSD beta+64(FP), Y13
	UPDATEROW(Y0, Y1)
	UPDATEROW(Y2, Y3)
	UPDATEROW(Y4, Y5)
	UPDATEROW(Y6, Y7)
	UPDATEROW(Y8, Y9)
	UPDATEROW(Y10, Y11)
	VZEROUPPER
	RET

// Sum the four lanes of Y into the low lane of X and store it at dst.
#define HSUM(Y, X, dst) \
	VEXTRACTF128 $1, Y, X12; \
	VADDPD       X12, X, X; \
	VHADDPD      X, X, X; \
	MOVSD        X, dst

// func dot4x2(k int, a *float64, lda int, b0, b1 *float64, out *[8]float64)
TEXT ·dot4x2(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), DX
	SHLQ $3, DX
	MOVQ b0+24(FP), BX
	MOVQ b1+32(FP), SI
	MOVQ out+40(FP), DI
	LEAQ (AX)(DX*1), R8  // row 1
	LEAQ (R8)(DX*1), R9  // row 2
	LEAQ (R9)(DX*1), R10 // row 3

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

	XORQ R11, R11
	SHRQ $2, CX
	JZ   done

loop:
	VMOVUPD     (BX)(R11*1), Y8
	VMOVUPD     (SI)(R11*1), Y9
	VMOVUPD     (AX)(R11*1), Y10
	VFMADD231PD Y8, Y10, Y0
	VFMADD231PD Y9, Y10, Y1
	VMOVUPD     (R8)(R11*1), Y11
	VFMADD231PD Y8, Y11, Y2
	VFMADD231PD Y9, Y11, Y3
	VMOVUPD     (R9)(R11*1), Y10
	VFMADD231PD Y8, Y10, Y4
	VFMADD231PD Y9, Y10, Y5
	VMOVUPD     (R10)(R11*1), Y11
	VFMADD231PD Y8, Y11, Y6
	VFMADD231PD Y9, Y11, Y7
	ADDQ        $32, R11
	DECQ        CX
	JNZ         loop

done:
	HSUM(Y0, X0, 0(DI))
	HSUM(Y1, X1, 8(DI))
	HSUM(Y2, X2, 16(DI))
	HSUM(Y3, X3, 24(DI))
	HSUM(Y4, X4, 32(DI))
	HSUM(Y5, X5, 40(DI))
	HSUM(Y6, X6, 48(DI))
	HSUM(Y7, X7, 56(DI))
	VZEROUPPER
	RET
