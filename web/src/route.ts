// The page's location lives in its URL fragment (#/channel/<id>), so the server serves one
// page at `/`. A few lines instead of a router package: five routes, no nesting, no loaders.
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'home' }
  | { page: 'channel'; channelId: string }
  | { page: 'directory' }
  | { page: 'people' }
  | { page: 'profile'; username: string | null }
  | { page: 'notifications' };

export function parseRoute(hash: string): Route {
  const [page, arg] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (page) {
    case 'channel':
      return arg ? { page: 'channel', channelId: arg } : { page: 'home' };
    case 'directory':
    case 'people':
    case 'notifications':
      return { page };
    case 'profile':
      return { page: 'profile', username: arg || null };
    default:
      return { page: 'home' };
  }
}

export function href(route: Route): string {
  switch (route.page) {
    case 'channel':
      return `#/channel/${encodeURIComponent(route.channelId)}`;
    case 'profile':
      return route.username ? `#/profile/${encodeURIComponent(route.username)}` : '#/profile';
    case 'home':
      return '#/';
    default:
      return `#/${route.page}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
