export default function Home() {
  return <main>Wukong</main>
}
