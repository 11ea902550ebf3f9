import type { AnchorHTMLAttributes } from 'react';
import { followLink } from '../lib/navigation';

/** An in-app link: a real <a href> (new tab works) that navigates without a page load. */
export function Link({ to, onClick, ...rest }: Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string }) {
  return (
    <a
      href={to}
      onClick={(event) => {
        onClick?.(event);
        followLink(event);
      }}
      {...rest}
    />
  );
}
