import type { Metadata } from 'next'

export const metadata: Metadata = {
  title: 'Wukong',
  description: 'A Next.js app on @wukong/adapter-vercel',
}

export default function RootLayout({ children }: Readonly<{ children: React.ReactNode }>) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  )
}
