/*
 * A stand-in for Windows's bcryptprimitives.dll, for running Go programs
 * under Wine 8.0 (Debian 12) in make test-windows only; never shipped.
 *
 * Since Go 1.24 the runtime of every Windows program takes its random bytes
 * from ProcessPrng in bcryptprimitives.dll (Windows 10 and later), and fails
 * at start-up without it; Wine 8.0 has no such export. ProcessPrng fills a
 * buffer from the system's cryptographic generator and always succeeds on
 * Windows; here it asks RtlGenRandom (SystemFunction036 in advapi32), which
 * Wine implements, in chunks of at most 1 GiB since that takes a ULONG.
 *
 * Built by scripts/test-windows with x86_64-w64-mingw32-gcc (Debian's
 * gcc-mingw-w64-x86-64-win32) and copied into the Wine prefix's system32.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}
