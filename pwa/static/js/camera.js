// Photos are downscaled on the phone before they are stored: longest side at most 1600 px, JPEG
// at quality 0.8. Re-encoding through a canvas drops EXIF and location; the original is never kept.

const MAX_SIDE = 1600;
const QUALITY = 0.8;

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The photo as a stored blob {sha, blob, type, size, width, height}; throws "undecodable". */
export async function preparePhoto(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    const error = new Error(`cannot decode ${file.name}`);
    error.kind = "undecodable";
    throw error;
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await new Promise((resolve, reject) => {
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode failed"))), "image/jpeg", QUALITY);
  });
  return { sha: await sha256Hex(blob), blob, type: blob.type, size: blob.size, width, height };
}

/** Wire a file input to a preview list; returns an async function giving the prepared photos,
 * which waits for any still being prepared, so a quick "save" never drops a photo. */
export function photoPicker(input, preview, onError) {
  const photos = [];
  const preparing = new Set();
  input.addEventListener("change", () => {
    for (const file of input.files) {
      const job = preparePhoto(file).then((photo) => {
        if (photos.some((p) => p.sha === photo.sha)) return;
        photos.push(photo);
        const img = document.createElement("img");
        img.src = URL.createObjectURL(photo.blob);
        img.alt = file.name;
        img.className = "thumb";
        preview.append(img);
      }, (error) => onError(error, file));
      preparing.add(job);
      job.finally(() => preparing.delete(job));
    }
    input.value = "";
  });
  return async () => {
    await Promise.all(preparing);
    return photos;
  };
}
