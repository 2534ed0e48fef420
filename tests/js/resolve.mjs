// Lets Node import the phone's modules as the browser does: "/static/js/x.js" is pwa/static/js/x.js.
const STATIC = new URL("../../pwa/static/", import.meta.url);

export async function resolve(specifier, context, next) {
  if (specifier.startsWith("/static/")) return next(new URL(specifier.slice("/static/".length), STATIC).href, context);
  return next(specifier, context);
}
