/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jpeg.c - the libjpeg-turbo job: the input (width and height, 32 bits
 * each, then RGB pixels) compressed to a JPEG in memory (quality 85), then
 * decompressed; the result is the JPEG's length (64 bits), the JPEG, then
 * the decompressed pixels.  Errors come back through longjmp, not exit(). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "job.h"

struct err {
	struct jpeg_error_mgr mgr;
	jmp_buf back;
};

static void on_error(j_common_ptr c)
{
	longjmp(((struct err *)c->err)->back, 1);
}

static int compress(const struct rl_job *j, uint32_t w, uint32_t h, unsigned char **jpg, unsigned long *len)
{
	struct jpeg_compress_struct c;
	struct err e;

	c.err = jpeg_std_error(&e.mgr);
	e.mgr.error_exit = on_error;
	if (setjmp(e.back)) {
		jpeg_destroy_compress(&c);
		return -1;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, jpg, len);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 85, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW r = (JSAMPROW)(j->in + 8 + (size_t)c.next_scanline * w * 3);
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return 0;
}

static int decompress(const unsigned char *jpg, unsigned long len, uint8_t *pix, uint32_t w, uint32_t h)
{
	struct jpeg_decompress_struct d;
	struct err e;

	d.err = jpeg_std_error(&e.mgr);
	e.mgr.error_exit = on_error;
	if (setjmp(e.back)) {
		jpeg_destroy_decompress(&d);
		return -1;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, jpg, len);
	jpeg_read_header(&d, TRUE);
	d.out_color_space = JCS_RGB;
	jpeg_start_decompress(&d);
	if (d.output_width != w || d.output_height != h || d.output_components != 3)
		longjmp(e.back, 1);
	while (d.output_scanline < d.output_height) {
		JSAMPROW r = pix + (size_t)d.output_scanline * w * 3;
		jpeg_read_scanlines(&d, &r, 1);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return 0;
}

intptr_t rl_jpeg_job(void *arg)
{
	struct rl_job *j = arg;
	uint32_t w, h;

	if (j->in_len < 8)
		return j->err = 1;
	memcpy(&w, j->in, 4);
	memcpy(&h, j->in + 4, 4);
	if (!w || !h || j->in_len - 8 != (size_t)w * h * 3)
		return j->err = 1;
	unsigned char *jpg = NULL;
	unsigned long len = 0;
	if (compress(j, w, h, &jpg, &len))
		return j->err = 2;
	size_t pix = (size_t)w * h * 3;
	uint8_t *out = malloc(8 + len + pix);
	if (!out) {
		free(jpg);
		return j->err = 3;
	}
	uint64_t l64 = len;
	memcpy(out, &l64, 8);
	memcpy(out + 8, jpg, len);
	free(jpg); /* jpeg_mem_dest's buffer: the job's malloc */
	if (decompress(out + 8, len, out + 8 + len, w, h)) {
		free(out);
		return j->err = 4;
	}
	j->out = out;
	j->out_len = 8 + len + pix;
	return 0;
}
