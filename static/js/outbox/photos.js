/* Photos travel as ~1600 px JPEGs: a 12 MP original would not fit through a weak signal. */
const LONG_SIDE = 1600;

/* A photo made small for the outbox: {blob, name}; the file itself when it cannot be decoded here. */
export async function downscale(file) {
  if (!/^image\/(jpeg|png|webp)$/.test(file.type) || typeof createImageBitmap !== 'function') {
    return { blob: file, name: file.name };
  }
  try {
    // No options: EXIF orientation is applied by default, and Safari 16 throws on the option.
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
    return { blob: blob || file, name: (file.name || 'photo').replace(/\.\w+$/, '') + '.jpg' };
  } catch (error) {
    return { blob: file, name: file.name };  // not decodable here: the server will say what is wrong
  }
}
